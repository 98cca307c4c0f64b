"""The one base of errors a person can cause: a stable `code` for programs, a message for
people, and the HTTP status the API answers with (api.errors maps them all in one place).

Each app derives its own (crm.errors.DomainError, accounts.errors.AccountsError,
billing.errors.BillingError, tenants.backups.errors.BackupError, tenants.errors...).
"""

from __future__ import annotations


class CodedError(Exception):
    code = "invalid"
    http_status = 400

    def __init__(self, message: str, *, code: str | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
