"""Platform staff's command, and restoring into a separate sandbox workspace."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from tenants.backups.models import Backup, BackupStatus, Job, JobStatus
from tenants.models import Tenant
from tests.conftest import PASSWORD
from tests.tenants.backups.conftest import CHANGED_BY_RESTORE, table_contents
from tests.tenants.backups.test_restore import fill

pytestmark = pytest.mark.slow


def run(*args: str) -> str:
    out = StringIO()
    call_command("backups", *args, stdout=out)
    return out.getvalue()


def test_staff_back_up_list_and_verify_a_workspace(scratch):
    fill(scratch)

    created = run("create", scratch.slug)
    backup = Backup.objects.get(tenant=scratch)
    listed = run("list", "--tenant", scratch.slug)
    verified = run("verify", str(backup.pk), "--deep")

    assert f"backup {backup.pk}" in created
    assert backup.status == BackupStatus.READY
    assert backup.encrypted
    assert f"{backup.pk}" in listed and "encrypted" in listed
    assert "is sound" in verified and "loaded and checked" in verified
    with pytest.raises(CommandError, match="No backup"):
        run("verify", "999999")


def test_restore_as_sandbox_makes_a_separate_workspace_with_the_backups_data(scratch):
    # given a backup, and live data changed since
    fill(scratch)
    run("create", scratch.slug)
    backup = Backup.objects.get(tenant=scratch)
    backed_up = table_contents(scratch.schema_name, skip=CHANGED_BY_RESTORE)
    fill(scratch, name="Added after the backup")
    live = table_contents(scratch.schema_name, skip=CHANGED_BY_RESTORE)

    # when it is restored as a sandbox
    out = run("restore", str(backup.pk), "--sandbox")

    # then a new workspace holds the backup's data, and the live one is untouched
    job = Job.objects.select_related("sandbox_tenant").get(backup=backup)
    assert job.status == JobStatus.DONE
    sandbox = job.sandbox_tenant
    assert sandbox.slug.startswith(f"{scratch.slug}-restore-")
    assert sandbox.slug in out
    assert table_contents(sandbox.schema_name, skip=CHANGED_BY_RESTORE) == backed_up
    assert table_contents(scratch.schema_name, skip=CHANGED_BY_RESTORE) == live
    # ... where the backup's people sign in with their passwords
    browser = Client(HTTP_HOST=f"{sandbox.slug}.localhost:8000")
    assert browser.post("/login/", {"username": f"sam@{scratch.slug}.example", "password": PASSWORD}).status_code == 302
    assert Tenant.objects.filter(pk=sandbox.pk).exists()
