"""Carrying the tenant into other threads.

Each thread has its own database connection, and a new connection starts on the public
schema: code handed to a thread pool would silently read public tables. Wrap it.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar

from django.db import connection, connections
from django_tenants.utils import schema_context

P = ParamSpec("P")
R = TypeVar("R")


def bound_to_current_tenant(function: Callable[P, R]) -> Callable[P, R]:
    """Return `function` bound to the tenant active now, for running on another thread."""
    schema_name = connection.schema_name

    @wraps(function)
    def in_tenant(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            with schema_context(schema_name):
                return function(*args, **kwargs)
        finally:
            connections.close_all()

    return in_tenant
