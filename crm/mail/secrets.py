"""Mailbox passwords sealed at rest: AES-256-GCM with a key derived from SECRET_KEY.

The key is HKDF-SHA256 of SECRET_KEY for this purpose only, so the password column is
useless without the server's secret (a stolen dump, a backup archive, an export). The
workspace's id is authenticated with each value: a sealed password copied into another
workspace's row does not open there. Values opened with SECRET_KEY_FALLBACKS still work
after a key rotation (and are sealed again with the new key on the next save); a value
that no key opens reads as missing, and the mailbox asks for the password again.
"""

from __future__ import annotations

import base64
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

PREFIX = "v1:"
_INFO = b"crm.mail.mailbox-password"


def _key(secret: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(secret.encode())


def _aad(workspace_id: int, purpose: str) -> bytes:
    return f"{workspace_id}:{purpose}".encode()


def seal(plain: str, *, workspace_id: int, purpose: str) -> str:
    """`plain` encrypted for this workspace and purpose ("smtp", "imap"); '' stays ''."""
    if not plain:
        return ""
    nonce = os.urandom(12)
    sealed = AESGCM(_key(settings.SECRET_KEY)).encrypt(nonce, plain.encode(), _aad(workspace_id, purpose))
    return PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode()


def unseal(value: str, *, workspace_id: int, purpose: str) -> str | None:
    """The password, '' when none was set, None when no server key opens it."""
    if not value:
        return ""
    if not value.startswith(PREFIX):
        return None
    try:
        raw = base64.urlsafe_b64decode(value[len(PREFIX) :].encode())
    except ValueError:
        return None
    nonce, sealed = raw[:12], raw[12:]
    for secret in [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]:
        try:
            return AESGCM(_key(secret)).decrypt(nonce, sealed, _aad(workspace_id, purpose)).decode()
        except (InvalidTag, ValueError):
            continue
    return None
