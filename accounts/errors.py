"""Errors around signing in, seats and access administration, with the codes API.md fixes."""

from __future__ import annotations

from datetime import datetime

from config.errors import CodedError


class AccountsError(CodedError):
    code = "invalid"
    http_status = 400


class PermissionRefused(AccountsError):
    code = "permission_denied"
    http_status = 403


class AccessConflict(AccountsError):
    """The record's state does not allow this (a built-in role, a role still held)."""

    code = "conflict"
    http_status = 409


class SeatError(AccountsError):
    code = "seat_error"
    http_status = 403


class SeatNotAssigned(SeatError):
    """The person has no seat; an administrator must give them one."""

    code = "seat_not_assigned"


class NoSeatAvailable(SeatError):
    """Every shared seat is in use right now."""

    code = "no_seat_available"

    def __init__(self, message: str, *, seats: int, next_free_at: datetime | None):
        super().__init__(message)
        self.seats = seats
        self.next_free_at = next_free_at


class SeatLimitReached(SeatError):
    """Assigning a named seat beyond what the workspace pays for."""

    code = "plan_limit_reached"
    http_status = 400


class PlanLimitReached(AccountsError):
    """More of something (integration tokens) than the workspace's plan allows."""

    code = "plan_limit_reached"
    http_status = 403


class InvitationInvalid(AccountsError):
    """The link was used, revoked or has expired."""

    code = "invitation_invalid"
    http_status = 410
