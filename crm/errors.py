"""Errors a person can cause, each with a stable code; mapped once to HTTP and UI messages.

Field-level input problems are `django.core.exceptions.ValidationError` with a dict of
fields and codes; everything else a user can trigger is a `DomainError` below.
"""

from __future__ import annotations

from config.errors import CodedError


class DomainError(CodedError):
    code = "invalid"
    http_status = 400


class AccessDenied(DomainError):
    code = "permission_denied"
    http_status = 403


class RecordNotFound(DomainError):
    """Also what another tenant's or an invisible record looks like (never 403)."""

    code = "not_found"
    http_status = 404


class Conflict(DomainError):
    code = "conflict"
    http_status = 409
