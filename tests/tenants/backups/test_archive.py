"""Encryption at rest and the archive's own checks, without a database."""

from __future__ import annotations

import io
import os

import pytest

from tenants.backups import encryption


def sealed(data: bytes, key: bytes) -> bytes:
    out = io.BytesIO()
    encryption.encrypt_stream(io.BytesIO(data), out, key)
    return out.getvalue()


def opened(data: bytes, key: bytes) -> bytes:
    out = io.BytesIO()
    encryption.decrypt_stream(io.BytesIO(data), out, key)
    return out.getvalue()


@pytest.mark.parametrize("size", [0, 1, encryption.CHUNK - 1, encryption.CHUNK, encryption.CHUNK * 2 + 7])
def test_encrypted_archives_open_with_their_key(size):
    key = encryption.key_from_setting(encryption.new_key())
    data = os.urandom(size)

    assert opened(sealed(data, key), key) == data


def test_a_wrong_key_is_refused():
    data = sealed(b"secret rows", encryption.key_from_setting(encryption.new_key()))

    with pytest.raises(encryption.DecryptionFailed):
        opened(data, encryption.key_from_setting(encryption.new_key()))


@pytest.mark.parametrize("damage", ["flip", "truncate", "drop_last_chunk"])
def test_a_changed_or_cut_archive_is_refused(damage):
    key = encryption.key_from_setting(encryption.new_key())
    data = bytearray(sealed(os.urandom(encryption.CHUNK * 2 + 10), key))
    if damage == "flip":
        data[len(data) // 2] ^= 1
    elif damage == "truncate":
        del data[-5:]
    else:
        del data[-(10 + encryption.TAG) :]

    with pytest.raises(encryption.DecryptionFailed):
        opened(bytes(data), key)


def test_keys_must_be_32_bytes():
    with pytest.raises(ValueError, match="32 bytes"):
        encryption.key_from_setting("c2hvcnQ")
