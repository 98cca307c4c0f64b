"""Request id and tenant carried into every log line."""

from __future__ import annotations

import contextvars
import logging
import re
import uuid

from django.db import connection

_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
_client: contextvars.ContextVar[tuple[str | None, str]] = contextvars.ContextVar("client", default=(None, ""))
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def bind_request_id(request_id: str) -> None:
    _request_id.set(request_id or "-")


def current_request_id() -> str:
    return _request_id.get()


def current_client() -> tuple[str | None, str]:
    """(IP address, user agent) of the request being served, for audit entries."""
    return _client.get()


class RequestContextMiddleware:
    """Give each request an id (the proxy's X-Request-ID when it is sane) and echo it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        bind_request_id(request_id)
        _client.set((request.META.get("REMOTE_ADDR"), request.headers.get("User-Agent", "")[:255]))
        response = self.get_response(request)
        response["X-Request-ID"] = request_id
        return response


class RequestContextFilter(logging.Filter):
    """Adds `tenant` (the active schema) and `request_id` to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _request_id.get()
        record.tenant = getattr(connection, "schema_name", None) or "-"
        return True
