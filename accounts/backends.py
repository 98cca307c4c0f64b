from django.contrib.auth.backends import ModelBackend

from accounts.signed_in import user_with_role


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
        user = user_with_role(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None
