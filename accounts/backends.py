from functools import cache

from django.contrib.auth.backends import ModelBackend
from django.db import connection

from accounts.models import User
from accounts.signed_in import person_columns, person_from, role_join


class EmailBackend(ModelBackend):
    """Email and password sign-in; loads the user with their role, which every
    permission check of the request needs."""

    def get_user(self, user_id):
        """The signed-in user of a request with their role, in one fixed statement
        (accounts.signed_in says why)."""
        try:
            user_id = int(user_id)
        except (TypeError, ValueError):
            return None
        with connection.cursor() as cursor:
            cursor.execute(_user_with_role(), [user_id])
            row = cursor.fetchone()
        if row is None:
            return None
        user = person_from(iter(row))
        return user if self.user_can_authenticate(user) else None


@cache
def _user_with_role() -> str:
    users = connection.ops.quote_name(User._meta.db_table)
    return f"SELECT {person_columns('u', 'r')} FROM {users} u {role_join('u', 'r')} WHERE u.id = %s"  # noqa: S608
