"""Errors a person can cause while signing up, with stable codes."""

from __future__ import annotations


class SignupRejected(Exception):
    """Field-level problems with a signup; `errors` maps field → [(message, code)]."""

    def __init__(self, errors: dict[str, list[tuple[str, str]]]):
        super().__init__("signup rejected")
        self.errors = errors

    def messages(self) -> dict[str, list[str]]:
        return {field: [str(message) for message, _code in items] for field, items in self.errors.items()}
