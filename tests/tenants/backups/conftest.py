"""Backups tests: real pg_dump/pg_restore, a real Celery worker process, committed data in
workspaces of their own (made by the real signup, deleted afterwards).

Backup storage, scratch space and media go to a temporary folder shared by this process
and the worker; archives are encrypted with a test key in both, so the worker tests also
cover encryption at rest.
"""

from __future__ import annotations

import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import override_settings
from psycopg import sql

from tenants.backups import encryption, schema_dump
from tenants.models import Tenant
from tenants.services import SignupRequest, tenant_delete, tenant_signup
from tests.conftest import PASSWORD
from tests.processes import worker_env

ROOT = Path(__file__).resolve().parents[3]
TEST_KEY = encryption.new_key()
# Sessions and seat leases are emptied by a restore on purpose (everyone signs in again);
# the audit log gains the restore's own entry.
CHANGED_BY_RESTORE = {"django_session", "accounts_seatlease", "accounts_auditentry"}


def wait_for(condition, timeout: float = 60.0, every: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(every)
    return False


@pytest.fixture(scope="package")
def backup_dirs(tmp_path_factory) -> Iterator[dict[str, Path]]:
    root = tmp_path_factory.mktemp("backups")
    dirs = {"storage": root / "storage", "work": root / "work", "media": root / "media", "outbox": root / "outbox"}
    for path in dirs.values():
        path.mkdir()
    from django.conf import settings

    storages = {**settings.STORAGES}
    storages["backups"] = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(dirs["storage"])},
    }
    with override_settings(
        STORAGES=storages,
        BACKUP_WORK_DIR=str(dirs["work"]),
        MEDIA_ROOT=dirs["media"],
        BACKUP_ENCRYPTION_KEY=TEST_KEY,
    ):
        yield dirs


@pytest.fixture(autouse=True)
def _backup_settings(backup_dirs) -> None:
    """Every test of this package uses the temporary storage."""


class Worker:
    def __init__(self, log: Path, outbox: Path, env: dict[str, str]):
        self.log = log
        self.outbox = outbox
        self.env = env
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        before = self.log.read_text().count(" ready.")
        with open(self.log, "a") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "config",
                    "worker",
                    "--pool",
                    "solo",
                    "-l",
                    "INFO",
                    "--without-heartbeat",
                    "--without-mingle",
                    "--without-gossip",
                ],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        assert wait_for(lambda: self.log.read_text().count(" ready.") > before, 60), self.log.read_text()

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)
        self.process = None

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=30)
            self.process = None

    def text(self) -> str:
        return self.log.read_text()

    def emails(self) -> str:
        return "\n".join(path.read_text() for path in sorted(self.outbox.glob("*.log")))


@pytest.fixture(scope="package")
def worker(django_db_setup, backup_dirs, tmp_path_factory) -> Iterator[Worker]:
    env = worker_env(
        BACKUP_DIR=str(backup_dirs["storage"]),
        BACKUP_WORK_DIR=str(backup_dirs["work"]),
        MEDIA_ROOT=str(backup_dirs["media"]),
        BACKUP_ENCRYPTION_KEY=TEST_KEY,
        EMAIL_URL=f"filemail:///{backup_dirs['outbox']}",
    )
    running = Worker(tmp_path_factory.mktemp("backup-worker") / "worker.log", backup_dirs["outbox"], env)
    running.log.touch()
    running.start()
    try:
        yield running
    finally:
        running.stop()


def scratch_signup(prefix: str = "bk") -> Tenant:
    slug = f"{prefix}-{secrets.token_hex(3)}"
    return tenant_signup(
        request=SignupRequest(
            company_name=f"Scratch {slug}",
            slug=slug,
            admin_name="Sam Scratch",
            admin_email=f"sam@{slug}.example",
            admin_password=PASSWORD,
            plan="team",
        )
    )


@pytest.fixture
def scratch(committed_db) -> Iterator[Tenant]:
    """A workspace of this test's own, deleted afterwards with everything it grew."""
    tenant = scratch_signup()
    try:
        yield tenant
    finally:
        discard(tenant)


def discard(tenant: Tenant) -> None:
    from tenants.backups.models import Job

    connection.set_schema_to_public()
    for job in Job.objects.filter(tenant=tenant, sandbox_tenant__isnull=False).select_related("sandbox_tenant"):
        if job.sandbox_tenant is not None:
            tenant_delete(tenant=job.sandbox_tenant)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE %s", [tenant.schema_name.replace("_", r"\_") + r"\_%"]
        )
        leftovers = [row[0] for row in cursor.fetchall()]
        for name in leftovers:
            cursor.execute(f'DROP SCHEMA "{name}" CASCADE')
    if Tenant.objects.filter(pk=tenant.pk).exists():
        tenant_delete(tenant=tenant)


def table_contents(schema: str, *, skip: set[str] = frozenset()) -> dict[str, list[tuple]]:
    """Every row of every table of `schema`, sorted, for comparing whole contents."""
    with schema_dump.connect() as conn, conn.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relkind = 'r' ORDER BY 1",
            [schema],
        )
        names = [row[0] for row in cursor.fetchall() if row[0] not in skip]
        contents = {}
        for name in names:
            cursor.execute(sql.SQL("SELECT * FROM {}.{}").format(sql.Identifier(schema), sql.Identifier(name)))
            contents[name] = sorted((tuple(row) for row in cursor.fetchall()), key=repr)
        return contents
