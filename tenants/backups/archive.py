"""One backup = one archive file: a tar of its parts and `manifest.json`, optionally
encrypted (see encryption.py), kept through Django's storage API.

Parts: `schema.dump` (pg_dump custom format, DDL only), `data/<table>.copy.gz` (the rows),
`files.tar.gz` (the tenant's folder under MEDIA_ROOT). The manifest lists each part with
its size and SHA-256; the catalogue row keeps the SHA-256 of the stored file itself, so a
single flipped byte anywhere is found before anything is restored.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tarfile
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.core.files.storage import Storage, storages

from tenants.backups import encryption
from tenants.backups.errors import BackupCorrupt

MANIFEST = "manifest.json"
FILES_PART = "files.tar.gz"
SCHEMA_PART = "schema.dump"
BLOCK = 1024 * 1024


def backup_storage() -> Storage:
    return storages["backups"]


def encryption_key() -> bytes | None:
    value = settings.BACKUP_ENCRYPTION_KEY
    return encryption.key_from_setting(value) if value else None


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(BLOCK):
            digest.update(block)
    return digest.hexdigest()


def pack_files(source: Path, target: Path) -> dict:
    """The tenant's uploaded files as one tar.gz (empty when it has none yet)."""
    count = 0
    size = 0
    with tarfile.open(target, "w:gz", compresslevel=1) as tar:
        if source.is_dir():
            for path in sorted(source.rglob("*")):
                if path.is_file() and not path.is_symlink():
                    tar.add(path, arcname=str(path.relative_to(source)), recursive=False)
                    count += 1
                    size += path.stat().st_size
    return {"count": count, "bytes": size}


def unpack_files(archive: Path, target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive, "r:gz") as tar:
        tar.extractall(target, filter="data")


def pack(*, folder: Path, manifest: dict, target: Path) -> tuple[bool, str]:
    """Tar `folder`'s parts with the manifest into `target` (encrypted when a key is set).

    Returns (encrypted, key id).
    """
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True))
    plain = target.with_suffix(".tar") if target.suffix != ".tar" else target.with_suffix(".plain.tar")
    with tarfile.open(plain, "w") as tar:
        tar.add(folder / MANIFEST, arcname=MANIFEST)
        for part in manifest["parts"]:
            tar.add(folder / part, arcname=part)
    key = encryption_key()
    if key is None:
        plain.rename(target)
        return False, ""
    with open(plain, "rb") as source, open(target, "wb") as sealed:
        encryption.encrypt_stream(source, sealed, key)
    plain.unlink()
    return True, encryption.key_id(key)


def store(*, source: Path, name: str) -> str:
    with open(source, "rb") as handle:
        return backup_storage().save(name, File(handle, name=Path(name).name))


def fetch(*, name: str, target: Path, expected_sha256: str) -> None:
    """Copy the stored archive to `target`; BackupCorrupt unless its SHA-256 matches."""
    digest = hashlib.sha256()
    try:
        with backup_storage().open(name, "rb") as source, open(target, "wb") as out:
            while block := source.read(BLOCK):
                digest.update(block)
                out.write(block)
    except FileNotFoundError as missing:
        raise BackupCorrupt("the archive is missing from backup storage") from missing
    if digest.hexdigest() != expected_sha256:
        raise BackupCorrupt("the archive's checksum does not match the catalogue: it was changed or damaged")


def unpack(*, archive: Path, folder: Path) -> dict:
    """Decrypt and extract `archive` into `folder`; check every part against the manifest.

    Raises BackupCorrupt on a wrong key, a changed byte, a missing or unexpected part.
    """
    with open(archive, "rb") as handle:
        head = handle.read(len(encryption.MAGIC))
    plain = archive
    if encryption.is_encrypted(head):
        key = encryption_key()
        if key is None:
            raise BackupCorrupt("the archive is encrypted and no BACKUP_ENCRYPTION_KEY is configured")
        plain = archive.with_suffix(".decrypted")
        try:
            with open(archive, "rb") as source, open(plain, "wb") as out:
                encryption.decrypt_stream(source, out, key)
        except encryption.DecryptionFailed as failed:
            raise BackupCorrupt(f"the archive cannot be decrypted: {failed}") from failed
    try:
        with tarfile.open(plain, "r:") as tar:
            tar.extractall(folder, filter="data")
    except (tarfile.TarError, OSError, EOFError) as broken:
        raise BackupCorrupt(f"the archive cannot be read: {broken}") from broken
    finally:
        if plain != archive:
            plain.unlink(missing_ok=True)
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
    except (OSError, ValueError) as broken:
        raise BackupCorrupt("the archive has no readable manifest") from broken
    verify_parts(folder=folder, manifest=manifest)
    return manifest


def verify_parts(*, folder: Path, manifest: dict) -> None:
    for part, facts in manifest.get("parts", {}).items():
        path = folder / part
        if not path.is_file():
            raise BackupCorrupt(f"part {part} is missing from the archive")
        if path.stat().st_size != facts["bytes"] or file_sha256(path) != facts["sha256"]:
            raise BackupCorrupt(f"part {part} does not match its checksum in the manifest")


def remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
