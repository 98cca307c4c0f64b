"""The one path every tenant API endpoint takes.

- Authentication: `Authorization: Bearer <token>` (personal tokens hold a seat lease,
  integration tokens act with their role), or the browser's session for the docs page.
- Permissions declared on the view, checked here: `record_type` (the role's scope for
  the HTTP method's action must not be `none`), `required_capability` for admin areas,
  `action_permissions` for extra actions (`{"convert": "edit"}`).
- Record visibility you cannot forget: `RecordViewSet` builds its queryset only through
  the subclass's `records()` / `record()`, which call selectors with the acting user.
  Overriding `get_queryset` or `get_object` is refused at import time; the escape hatch
  is `dangerously_unscoped_queryset`.
- Rate limits per workspace and per token from the plan; `Idempotency-Key` on POST;
  `ETag` on reads and `If-Match` on PATCH/DELETE.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, ClassVar

from django.db import connection, transaction
from django.db.models import Model, QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiParameter
from rest_framework import exceptions, status, viewsets
from rest_framework.authentication import BaseAuthentication, SessionAuthentication, get_authorization_header
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView

from accounts import roles
from accounts.models import ApiToken
from accounts.policy import has_capability, scope_for
from accounts.tokens import api_token_authenticate
from api.fields import tag_names_attach
from api.models import IdempotentRequest
from api.pagination import KeysetPagination
from config.request_context import current_client
from tenants.selectors import tenant_current

METHOD_ACTIONS = {
    "GET": "view",
    "HEAD": "view",
    "OPTIONS": "view",
    "POST": "create",
    "PUT": "edit",
    "PATCH": "edit",
    "DELETE": "delete",
}


# --- authentication --------------------------------------------------------------------


class BearerTokenAuthentication(BaseAuthentication):
    """`Authorization: Bearer <token>`; the token's seat is kept on every request."""

    keyword = "bearer"

    def authenticate(self, request):
        header = get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.encode():
            return None
        if len(header) != 2:
            raise exceptions.NotAuthenticated(_("Send the token as 'Authorization: Bearer <token>'."))
        try:
            secret = header[1].decode()
        except UnicodeDecodeError as undecodable:
            raise exceptions.NotAuthenticated(_("This token is unknown, revoked or expired.")) from undecodable
        token = api_token_authenticate(secret=secret, ip_address=current_client()[0])
        return token.user, token

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="api"'


class BrowserSessionAuthentication(SessionAuthentication):
    """The signed-in browser (the docs page's "try it out"); CSRF applies."""


class BearerScheme(OpenApiAuthenticationExtension):
    target_class = BearerTokenAuthentication
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": "A token from POST /api/v1/auth/token/."}


class SessionScheme(OpenApiAuthenticationExtension):
    target_class = BrowserSessionAuthentication
    name = "sessionAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "cookie", "name": "crm_session"}


# --- permissions -------------------------------------------------------------------------


class DeclaredPermission(BasePermission):
    """Checks what the view declares; record-level visibility is the selectors' job."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        if user is None or not user.is_authenticated:
            raise exceptions.NotAuthenticated()
        capability = getattr(view, "required_capability", None)
        if capability and not has_capability(user, capability):
            raise exceptions.PermissionDenied(
                _("Your role doesn't allow this (%(power)s). Ask a workspace administrator.")
                % {"power": roles.CAPABILITY_LABELS[capability]}
            )
        record_type = getattr(view, "record_type", None)
        if record_type:
            action = getattr(view, "action_permissions", {}).get(getattr(view, "action", None))
            action = action or METHOD_ACTIONS.get(request.method, "view")
            if scope_for(user, record_type, action) == roles.NONE:
                raise exceptions.PermissionDenied(_("Your role doesn't allow this."))
        return True


# --- rate limits -------------------------------------------------------------------------

_COUNT_SQL = """
INSERT INTO api_ratecounter (key, window_start, count, created_at, updated_at)
VALUES (%s, date_trunc('minute', now()), 1, now(), now()), (%s, date_trunc('minute', now()), 1, now(), now())
ON CONFLICT (key) DO UPDATE SET
    count = CASE WHEN api_ratecounter.window_start = EXCLUDED.window_start
                 THEN api_ratecounter.count + 1 ELSE 1 END,
    window_start = EXCLUDED.window_start,
    updated_at = now()
RETURNING key, count, EXTRACT(EPOCH FROM (window_start + interval '1 minute' - now()))
"""


class PlanRateThrottle(BaseThrottle):
    """Requests per minute from the plan, for the workspace and for each token.

    Counted in PostgreSQL in one statement per request, so every web node agrees. A token
    may have a lower limit of its own (integration tokens set by an administrator).
    """

    def allow_request(self, request, view) -> bool:
        tenant = tenant_current()
        if tenant is None or tenant.plan is None:
            return True
        limit = tenant.plan.api_requests_per_minute
        token = request.auth if isinstance(request.auth, ApiToken) else None
        caller = f"token:{token.pk}" if token is not None else f"user:{getattr(request.user, 'pk', 'anonymous')}"
        caller_limit = min(limit, token.requests_per_minute or limit) if token is not None else limit
        # One key per caller, one for the workspace; sorted so that rows lock in one order.
        with connection.cursor() as cursor:
            cursor.execute(_COUNT_SQL, ["workspace", caller])
            counts = {key: (count, float(wait)) for key, count, wait in cursor.fetchall()}
        over = counts["workspace"][0] > limit * 5 or counts[caller][0] > caller_limit
        self.wait_seconds = max(1.0, counts[caller][1])
        return not over

    def wait(self) -> float:
        return self.wait_seconds


# --- idempotency and optimistic concurrency ----------------------------------------------

# Header values are visible ASCII (RFC 9110 tokens and quoted strings); anything else is
# refused by the web server before it reaches us.
HEADER_VALUE = {"type": "string", "pattern": "^[!-~]{1,255}$", "maxLength": 255}
IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    HEADER_VALUE,
    OpenApiParameter.HEADER,
    description="Any unique string; a retried POST with the same key replays the first answer.",
)
IF_MATCH_HEADER = OpenApiParameter(
    "If-Match",
    HEADER_VALUE,
    OpenApiParameter.HEADER,
    description="The ETag you read; the change is refused with 412 if someone changed the record since.",
)


class IdempotencyKeyReused(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_code = "idempotency_key_reused"
    default_detail = "This Idempotency-Key was used for a different request."


class EditConflict(exceptions.APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_code = "edit_conflict"
    default_detail = "Someone changed this record after you read it. Reload it and apply your change again."


def etag_of(record: Model) -> str:
    stamp = getattr(record, "updated_at", None)
    return f'W/"{record.pk}-{int(stamp.timestamp() * 1_000_000) if stamp else 0}"'


def _fingerprint(request) -> str:
    body = json.dumps(request.data, sort_keys=True, default=str) if request.data else ""
    return hashlib.sha256(f"{request.method} {request.path}\n{body}".encode()).hexdigest()


class TenantAPIView(APIView):
    """Base of every tenant API view: auth, declared permissions, plan limits, idempotency."""

    authentication_classes: ClassVar[list] = [BearerTokenAuthentication, BrowserSessionAuthentication]
    permission_classes: ClassVar[list] = [DeclaredPermission]
    throttle_classes: ClassVar[list] = [PlanRateThrottle]

    def dispatch(self, request, *args, **kwargs):
        if request.method == "POST" and request.headers.get("Idempotency-Key"):
            # The claim, the write and the stored answer commit together or not at all.
            with transaction.atomic():
                response = super().dispatch(request, *args, **kwargs)
                if not 200 <= response.status_code < 300 and not getattr(response, "replayed", False):
                    transaction.set_rollback(True)
                return response
        return super().dispatch(request, *args, **kwargs)

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        key = request.headers.get("Idempotency-Key")
        if request.method == "POST" and key:
            self._idempotent_claim(request, key)

    def _idempotent_claim(self, request, key: str) -> None:
        if len(key) > 255:
            raise exceptions.ValidationError({"Idempotency-Key": [_("Use at most 255 characters.")]})
        fingerprint = _fingerprint(request)
        with connection.cursor() as cursor:
            # Waits for a concurrent first attempt to finish; then sees its committed row.
            cursor.execute(
                "INSERT INTO api_idempotentrequest (user_id, key, fingerprint, created_at, updated_at) "
                "VALUES (%s, %s, %s, now(), now()) ON CONFLICT (user_id, key) DO NOTHING RETURNING id",
                [request.user.pk, key, fingerprint],
            )
            claimed = cursor.fetchone()
            cursor.execute(
                "DELETE FROM api_idempotentrequest WHERE user_id = %s AND created_at < now() - interval '24 hours'",
                [request.user.pk],
            )
        if claimed is not None:
            self._idempotency_id = claimed[0]
            return
        first = IdempotentRequest.objects.filter(user_id=request.user.pk, key=key).first()
        if first is None or first.fingerprint != fingerprint:
            raise IdempotencyKeyReused(_("This Idempotency-Key was used for a different request."))
        raise _Replay(first)

    def handle_exception(self, exc):
        if isinstance(exc, _Replay):
            response = Response(exc.first.response, status=exc.first.status_code)
            response["Idempotent-Replayed"] = "true"
            response.replayed = True
            return response
        return super().handle_exception(exc)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        claimed = getattr(self, "_idempotency_id", None)
        if claimed is not None and 200 <= response.status_code < 300:
            IdempotentRequest.objects.filter(pk=claimed).update(
                status_code=response.status_code, response=getattr(response, "data", None)
            )
        return response


class _Replay(Exception):
    def __init__(self, first: IdempotentRequest):
        super().__init__(first.key)
        self.first = first


class RecordViewSet(TenantAPIView, viewsets.GenericViewSet):
    """Lists and records seen through the selectors, for the acting user only.

    Subclasses implement `records(actor, query)` (a list selector) and `record(actor, pk)`
    (a get selector raising RecordNotFound) and never touch querysets directly.
    """

    pagination_class = KeysetPagination
    record_type: ClassVar[str | None] = None
    action_permissions: ClassVar[dict[str, str]] = {}
    filter_serializer: ClassVar[type | None] = None
    lookup_value_regex = r"[0-9]{1,18}"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for name in ("get_queryset", "get_object"):
            if name in cls.__dict__:
                raise TypeError(
                    f"{cls.__name__}.{name} would skip record visibility; implement records()/record(), "
                    "or name the exception dangerously_unscoped_queryset."
                )

    def records(self, actor, query: dict[str, Any]) -> QuerySet:
        raise NotImplementedError

    def record(self, actor, pk: int) -> Model:
        raise NotImplementedError

    def filters(self) -> dict[str, Any]:
        if self.filter_serializer is None:
            return {}
        serializer = self.filter_serializer(data=self.request.query_params, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        return {key: value for key, value in serializer.validated_data.items() if value not in (None, "")}

    def get_queryset(self) -> QuerySet:
        return self.records(self.request.user, self.filters())

    def get_object(self) -> Model:
        return self.record(self.request.user, int(self.kwargs[self.lookup_field]))

    @contextmanager
    def edit_guard(self, record: Model) -> Iterator[None]:
        """One transaction for a change; with `If-Match`, the record is locked and its
        version compared first, so two people's edits can't silently overwrite each other."""
        with transaction.atomic():
            expected = self.request.headers.get("If-Match")
            if expected:
                current = (
                    type(record)
                    ._base_manager.select_for_update()
                    .filter(pk=record.pk)
                    .values_list("updated_at", flat=True)
                ).first()
                record.updated_at = current
                if expected.strip() != etag_of(record):
                    raise EditConflict(
                        _("Someone changed this record after you read it. Reload it and apply your change again.")
                    )
            yield

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        record = getattr(response, "record", None)
        if record is not None and "ETag" not in response:
            response["ETag"] = etag_of(record)
        return response

    def respond(self, record: Model, *, status_code: int = status.HTTP_200_OK) -> Response:
        """One record in the output shape, with its ETag."""
        response = Response(self.get_serializer(record).data, status=status_code)
        response.record = record
        return response

    def validated(self, serializer_class: type, *, partial: bool = False) -> dict[str, Any]:
        serializer = serializer_class(data=self.request.data, partial=partial, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data


class ListRecordsMixin:
    def list(self, request, *args, **kwargs) -> Response:
        queryset = self.get_queryset()
        lookups = list(queryset._prefetch_related_lookups)
        tags_by_page = "tags" in lookups
        if tags_by_page:
            queryset = queryset.prefetch_related(None).prefetch_related(
                *(lookup for lookup in lookups if lookup != "tags")
            )
        page = self.paginate_queryset(queryset)
        if tags_by_page:
            tag_names_attach(page)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


class RetrieveRecordMixin:
    def retrieve(self, request, *args, **kwargs) -> Response:
        return self.respond(self.get_object())


class CreateRecordMixin:
    """`create_serializer` validates shapes; `create_record` calls the service."""

    create_serializer: ClassVar[type]

    def create(self, request, *args, **kwargs) -> Response:
        data = self.validated(self.create_serializer)
        return self.respond(self.create_record(request.user, data), status_code=status.HTTP_201_CREATED)

    def create_record(self, actor, data: dict[str, Any]) -> Model:
        raise NotImplementedError


class UpdateRecordMixin:
    """PATCH only (partial updates): `update_serializer` + `update_record` (the service)."""

    update_serializer: ClassVar[type]

    def partial_update(self, request, *args, **kwargs) -> Response:
        record = self.get_object()
        data = self.validated(self.update_serializer, partial=True)
        with self.edit_guard(record):
            record = self.update_record(request.user, record, data)
        return self.respond(record)

    def update_record(self, actor, record: Model, data: dict[str, Any]) -> Model:
        raise NotImplementedError


class TrashRecordMixin:
    """DELETE moves the record to the trash (restorable), through crm.trash."""

    def destroy(self, request, *args, **kwargs) -> Response:
        from crm.trash import record_trash

        record = self.get_object()
        with self.edit_guard(record):
            record_trash(actor=request.user, record=record)
        return Response(status=status.HTTP_204_NO_CONTENT)
