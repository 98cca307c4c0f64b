"""Errors around signing in and seats, with the codes API.md fixes."""

from __future__ import annotations

from datetime import datetime


class SeatError(Exception):
    code = "seat_error"
    http_status = 403

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


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
