"""Imports tests: real files from tests/crm/imports/files, stored in a temporary MEDIA_ROOT,
run by the real job code in this process (tests with a worker process say so)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts import roles
from accounts.models import Role, SeatType, User
from accounts.services import user_create
from crm.imports import runner
from crm.imports.models import ImportJob
from crm.imports.services import import_configure, import_start, import_upload
from tests.crm.attachments.conftest import media_root_set

FILES = Path(__file__).parent / "files"


@pytest.fixture(autouse=True)
def media(settings, tmp_path) -> Path:
    return media_root_set(settings, tmp_path / "media")


def fixture_file(name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, (FILES / name).read_bytes())


def a_file(name: str, content: bytes | str, encoding: str = "utf-8") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content.encode(encoding) if isinstance(content, str) else content)


def upload(actor, entity: str, file, **kwargs) -> ImportJob:
    return import_upload(actor=actor, entity=entity, file=file, **kwargs)


def run(job: ImportJob, actor, *, mapping=None, options=None) -> ImportJob:
    """Configure, start and run the job to its end, as the worker would (in process)."""
    if mapping is not None or options is not None:
        job = import_configure(actor=actor, job=job, mapping=mapping, options=options)
    import_start(actor=actor, job=job)
    runner.import_run(job_id=job.pk)
    job.refresh_from_db()
    return job


def targets(job: ImportJob) -> dict[str, str]:
    """header → guessed target."""
    return {entry["header"]: entry["target"] for entry in job.mapping}


def member(email: str, role_code: str, name: str = "") -> User:
    return user_create(
        email=email,
        full_name=name or email.split("@")[0].title(),
        password=None,
        role=Role.objects.get(code=role_code),
        seat_type=SeatType.CONCURRENT,
    )


@pytest.fixture
def rex(acme) -> User:
    return member("rex@acme.example", roles.SALES_REP, "Rex Rep")


@pytest.fixture
def sam(acme) -> User:
    return member("sam@acme.example", roles.SUPPORT, "Sam Support")
