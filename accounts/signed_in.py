"""The signed-in person and their role, read by a fixed statement on every request.

A browser session (accounts.backends) and an API token (accounts.tokens) both need the
person with their role on every request. Built as ORM queries
(`select_related("role")`, `select_related("user__role")`), compiling them and building
the instances cost about three times the round trip (bench seats). Here each statement is
text fixed once per process, and the rows become the very instances the ORM would have
made (config.model_rows).
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from typing import Any

from django.db import connection

from accounts.models import ApiToken, Role, User
from config import model_rows


def user_with_role(user_id: int) -> User | None:
    """The user with that id, their role loaded; None when there is none."""
    row = _fetch_one(_user_statement(), user_id)
    return None if row is None else _person_from(iter(row))


def live_token_with_person(token_hash: str) -> ApiToken | None:
    """The unrevoked token with that hash, its user and their role loaded; None when there is none."""
    row = _fetch_one(_token_statement(), token_hash)
    if row is None:
        return None
    values = iter(row)
    token = model_rows.instance(ApiToken, model_rows.converted(ApiToken, values))
    ApiToken.user.field.set_cached_value(token, _person_from(values))
    return token


def _fetch_one(statement: str, value: Any) -> tuple | None:
    with connection.cursor() as cursor:
        cursor.execute(statement, [value])
        return cursor.fetchone()


def _person_from(values: Iterator[Any]) -> User:
    """The user, their role already loaded, from a row's `_person_columns` values."""
    user = model_rows.instance(User, model_rows.converted(User, values))
    role_values = model_rows.converted(Role, values)
    role = None if role_values is None else model_rows.instance(Role, role_values)
    User.role.field.set_cached_value(user, role)
    return user


# Only identifiers from the models' metadata are formatted in; values are parameters.
@cache
def _user_statement() -> str:
    return f"SELECT {_person_columns()} FROM {_table(User)} u {_role_join()} WHERE u.id = %s"  # noqa: S608


@cache
def _token_statement() -> str:
    return (
        f"SELECT {model_rows.selected_columns(ApiToken, 't')}, {_person_columns()} "  # noqa: S608
        f"FROM {_table(ApiToken)} t JOIN {_table(User)} u ON u.id = t.user_id {_role_join()} "
        "WHERE t.token_hash = %s AND t.revoked_at IS NULL"
    )


def _person_columns() -> str:
    """The user's columns (alias u), then the role's (alias r), for `_person_from`."""
    return f"{model_rows.selected_columns(User, 'u')}, {model_rows.selected_columns(Role, 'r')}"


def _role_join() -> str:
    return f"LEFT JOIN {_table(Role)} r ON r.id = u.role_id"


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)
