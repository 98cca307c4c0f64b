"""Settings of the web server the browser tests start: the project's own, plus the MD5
hasher the test session hashes passwords with (tests/conftest.py), so people created by
the tests can sign in."""

from config.settings import *  # noqa: F403
from config.settings import PASSWORD_HASHERS

PASSWORD_HASHERS = [*PASSWORD_HASHERS, "django.contrib.auth.hashers.MD5PasswordHasher"]
