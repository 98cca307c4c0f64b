"""OpenAPI: every operation documents the errors it can answer, in the one error shape."""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="A sentence for people, in the caller's language.")
    code = serializers.CharField(
        help_text=(
            "Stable for programs: not_authenticated, permission_denied, not_found, validation_error, "
            "throttled, no_seat_available, seat_not_assigned, tenant_read_only, plan_limit_reached, "
            "edit_conflict, idempotency_key_reused, conflict..."
        )
    )
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="Per field, the messages (validation_error only).",
    )


ERROR_DESCRIPTIONS = {
    400: "validation_error (with `errors` per field), or another code naming the rule broken",
    401: "not_authenticated: no token, or an unknown, revoked or expired one",
    403: "permission_denied, tenant_read_only, plan_limit_reached, no_seat_available, seat_not_assigned",
    404: "not_found: missing, in another workspace, or not visible to you (all look the same)",
    409: "conflict: the record's state does not allow this (e.g. a lead already converted)",
    412: "edit_conflict: If-Match does not match the record's current ETag",
    422: "idempotency_key_reused: the key was used for a different request",
    429: "throttled: too many requests this minute; see Retry-After",
}


class CrmAutoSchema(AutoSchema):
    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if self.method == "GET" and "/schema" in self.path:
            return responses
        statuses = [401, 403, 429]
        if self.method in ("POST", "PUT", "PATCH"):
            statuses.append(400)
        if self.method == "GET" and self._is_list_view():
            statuses.append(400)
        if "{" in self.path:
            statuses.append(404)
        if self.method in ("POST", "PATCH", "DELETE"):
            statuses.append(409)
        if self.method in ("PATCH", "DELETE") and "{" in self.path:
            statuses.append(412)
        if self.method == "POST":
            statuses.append(422)
        error_schema = self.resolve_serializer(ErrorSerializer, "response").ref
        for code in statuses:
            key = str(code)
            if key not in responses:
                responses[key] = {
                    "content": {"application/json": {"schema": error_schema}},
                    "description": ERROR_DESCRIPTIONS[code],
                }
        return responses
