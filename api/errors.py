"""One error shape for the whole API: {"detail", "code", "errors"?} (API.md)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from accounts.errors import NoSeatAvailable
from config.errors import CodedError
from tenants.errors import SignupRejected


def _field_messages(detail) -> dict[str, list[str]]:
    if isinstance(detail, dict):
        return {
            field: [str(item) for item in (value if isinstance(value, list) else [value])]
            for field, value in detail.items()
        }
    return {"non_field_errors": [str(item) for item in (detail if isinstance(detail, list) else [detail])]}


def _django_field_errors(error: DjangoValidationError) -> dict[str, list[str]]:
    if hasattr(error, "error_dict"):
        return {
            ("non_field_errors" if field == "__all__" else field): [str(message) for message in messages_]
            for field, messages_ in error.message_dict.items()
        }
    return {"non_field_errors": [str(message) for message in error.messages]}


def _coded(exc: CodedError) -> Response:
    if exc.code == "validation_error":
        return Response(
            {
                "detail": _("Some fields need attention."),
                "code": "validation_error",
                "errors": {"non_field_errors": [exc.message]},
            },
            status=status.HTTP_400_BAD_REQUEST,
        )
    body = {"detail": exc.message, "code": exc.code}
    if isinstance(exc, NoSeatAvailable):
        body["seats"] = exc.seats
        body["next_free_at"] = exc.next_free_at.isoformat() if exc.next_free_at else None
    response = Response(body, status=exc.http_status)
    if exc.http_status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


def exception_handler(exc, context):
    # A problem the person caused, with its own code and HTTP status (see each app's errors.py).
    if isinstance(exc, CodedError):
        return _coded(exc)
    if isinstance(exc, DjangoValidationError):
        return Response(
            {
                "detail": _("Some fields need attention."),
                "code": "validation_error",
                "errors": _django_field_errors(exc),
            },
            status=status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exc, SignupRejected):
        return Response(
            {"detail": _("Some fields need attention."), "code": "validation_error", "errors": exc.messages()},
            status=status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        response.data = {
            "detail": _("Some fields need attention."),
            "code": "validation_error",
            "errors": _field_messages(exc.detail),
        }
    else:
        detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
        code = getattr(exc, "default_code", "error")
        if isinstance(exc, exceptions.APIException) and hasattr(detail, "code") and detail.code:
            code = detail.code
        response.data = {"detail": str(detail), "code": code}
    return response
