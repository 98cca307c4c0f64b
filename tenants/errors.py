"""Errors a person can cause while signing up, with stable codes."""

from __future__ import annotations

from config.errors import CodedError


class SignupRejected(Exception):
    """Field-level problems with a signup; `errors` maps field → [(message, code)]."""

    def __init__(self, errors: dict[str, list[tuple[str, str]]]):
        super().__init__("signup rejected")
        self.errors = errors

    def messages(self) -> dict[str, list[str]]:
        return {field: [str(message) for message, _code in items] for field, items in self.errors.items()}


class TenantReadOnly(CodedError):
    """A write to a workspace whose subscription is unpaid past its grace period.

    Reads, sign-in, exports, backups and the billing page keep working (see
    tenants.middleware.TenantStatusMiddleware); nothing is ever deleted for billing reasons.
    """

    code = "tenant_read_only"
    http_status = 403

    def __init__(self, message: str = ""):
        from django.utils.translation import gettext

        super().__init__(
            message
            or gettext(
                "This workspace is read-only because its subscription is unpaid. "
                "Your data is safe; an administrator can restore full access on the billing page."
            )
        )


class TenantSuspended(TenantReadOnly):
    """The workspace is suspended: only administrators reach the billing page."""

    code = "tenant_suspended"

    def __init__(self, message: str = ""):
        from django.utils.translation import gettext

        super().__init__(
            message
            or gettext(
                "This workspace is suspended because its subscription is unpaid. "
                "Your data is kept; an administrator can restore access on the billing page."
            )
        )
