"""Request id and tenant carried into every log line."""

from __future__ import annotations

import contextlib
import contextvars
import logging
import re
import uuid
from collections.abc import Iterator

from django.db import connection

_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
_client: contextvars.ContextVar[tuple[str | None, str]] = contextvars.ContextVar("client", default=(None, ""))
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
# How a change reached us (web, api, import, automation, system) and the batch it belongs
# to ("import:12"), for the field history; outside requests and jobs it is "system".
_change_source: contextvars.ContextVar[tuple[str, str]] = contextvars.ContextVar(
    "change_source", default=("system", "")
)


def bind_request_id(request_id: str) -> None:
    _request_id.set(request_id or "-")


def current_request_id() -> str:
    return _request_id.get()


def current_client() -> tuple[str | None, str]:
    """(IP address, user agent) of the request being served, for audit entries."""
    return _client.get()


def current_change_source() -> tuple[str, str]:
    """(channel, batch) of the changes being made now."""
    return _change_source.get()


@contextlib.contextmanager
def change_source_bound(channel: str, batch: str = "") -> Iterator[None]:
    """Changes made inside are recorded as coming through `channel`, in `batch`."""
    token = _change_source.set((channel, batch))
    try:
        yield
    finally:
        _change_source.reset(token)


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
        with change_source_bound("api" if request.path.startswith("/api/") else "web"):
            response = self.get_response(request)
        response["X-Request-ID"] = request_id
        return response


class RequestContextFilter(logging.Filter):
    """Adds `tenant` (the active schema) and `request_id` to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _request_id.get()
        record.tenant = getattr(connection, "schema_name", None) or "-"
        return True
