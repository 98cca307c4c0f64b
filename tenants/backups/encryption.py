"""Encryption at rest of backup archives: AES-256-GCM in 1 MiB chunks (streaming).

Archives can be gigabytes, so they are never held in memory. Each chunk is sealed
separately with a nonce made of a random per-file prefix and the chunk's number, and the
chunk number plus a "last chunk" flag are authenticated, so chunks cannot be reordered,
dropped or the file truncated without the tag check failing.

The key is 32 bytes, given urlsafe-base64 in BACKUP_ENCRYPTION_KEY (or
BACKUP_ENCRYPTION_KEY_FILE); generate one with `manage.py backups genkey`.
"""

from __future__ import annotations

import base64
import hashlib
import os
import struct
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

MAGIC = b"CRMBAK1\n"
CHUNK = 1024 * 1024
TAG = 16


class DecryptionFailed(ValueError):
    """Wrong key, or the file was changed."""


def key_from_setting(value: str) -> bytes:
    key = base64.urlsafe_b64decode(value.strip().encode() + b"==")
    if len(key) != 32:
        raise ValueError("BACKUP_ENCRYPTION_KEY must be 32 bytes, urlsafe-base64 encoded.")
    return key


def key_id(key: bytes) -> str:
    return hashlib.sha256(key).hexdigest()[:12]


def new_key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")


def _nonce(prefix: bytes, index: int, last: bool) -> tuple[bytes, bytes]:
    aad = struct.pack(">Q?", index, last)
    return prefix + struct.pack(">I", index), aad


def encrypt_stream(source: BinaryIO, target: BinaryIO, key: bytes) -> None:
    aead = AESGCM(key)
    prefix = os.urandom(8)
    target.write(MAGIC + prefix)
    index = 0
    chunk = source.read(CHUNK)
    while True:
        following = source.read(CHUNK)
        last = not following
        nonce, aad = _nonce(prefix, index, last)
        target.write(aead.encrypt(nonce, chunk, aad))
        if last:
            return
        chunk, index = following, index + 1


def decrypt_stream(source: BinaryIO, target: BinaryIO, key: bytes) -> None:
    aead = AESGCM(key)
    header = source.read(len(MAGIC) + 8)
    if header[: len(MAGIC)] != MAGIC:
        raise DecryptionFailed("not an encrypted backup")
    prefix = header[len(MAGIC) :]
    index = 0
    sealed = source.read(CHUNK + TAG)
    while True:
        following = source.read(CHUNK + TAG)
        last = not following
        nonce, aad = _nonce(prefix, index, last)
        try:
            target.write(aead.decrypt(nonce, sealed, aad))
        except InvalidTag as invalid:
            raise DecryptionFailed("wrong key, or the archive was changed") from invalid
        if last:
            return
        sealed, index = following, index + 1


def is_encrypted(head: bytes) -> bool:
    return head.startswith(MAGIC)
