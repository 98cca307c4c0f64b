"""The signed-in person and their role, read by a fixed statement on every request.

A browser session (accounts.backends) and an API token (accounts.tokens) both need the
person with their role on every request. Built as an ORM query
(`select_related("role")`), compiling it and building the instances cost about three
times the round trip (bench seats). Here the statement is text fixed once per process,
and the rows become the very instances the ORM would have made (config.model_rows).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.db import connection

from accounts.models import Role, User
from config import model_rows


def person_columns(user_alias: str, role_alias: str) -> str:
    """The user's columns, then the role's, for `person_from`."""
    return f"{model_rows.selected_columns(User, user_alias)}, {model_rows.selected_columns(Role, role_alias)}"


def role_join(user_alias: str, role_alias: str) -> str:
    role_table = connection.ops.quote_name(Role._meta.db_table)
    return f"LEFT JOIN {role_table} {role_alias} ON {role_alias}.id = {user_alias}.role_id"


def person_from(values: Iterator[Any]) -> User:
    """The user, their role already loaded, from a row's `person_columns` values."""
    user = model_rows.instance(User, model_rows.converted(User, values))
    role_values = model_rows.converted(Role, values)
    role = None if role_values is None else model_rows.instance(Role, role_values)
    User.role.field.set_cached_value(user, role)
    return user
