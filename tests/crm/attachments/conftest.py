"""Attachments tests: files go to a temporary MEDIA_ROOT, never the developer's own."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts import roles
from accounts.models import Role, SeatType, User
from accounts.services import user_create


def media_root_set(settings, path: Path) -> Path:
    """Point the default storage at `path`. django-tenants' storage caches the media root
    and only forgets it when MULTITENANT_RELATIVE_MEDIA_ROOT changes, so that is set too."""
    settings.MEDIA_ROOT = str(path)
    settings.MULTITENANT_RELATIVE_MEDIA_ROOT = "%s"
    return path


@pytest.fixture(autouse=True)
def media(settings, tmp_path) -> Path:
    return media_root_set(settings, tmp_path / "media")


def upload(content: bytes, name: str = "offer.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content)


def stored_files(media: Path) -> list[Path]:
    return sorted(path for path in media.rglob("*") if path.is_file())


def member(email: str, role_code: str) -> User:
    return user_create(
        email=email,
        full_name=email.split("@")[0].title(),
        password=None,
        role=Role.objects.get(code=role_code),
        seat_type=SeatType.CONCURRENT,
    )


@pytest.fixture
def rex(acme) -> User:
    return member("rex@acme.example", roles.SALES_REP)


@pytest.fixture
def rita(acme) -> User:
    return member("rita@acme.example", roles.SALES_REP)
