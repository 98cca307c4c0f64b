"""When scheduled backups happen, how they are spread, and what retention keeps."""

from __future__ import annotations

from datetime import timedelta

from django.core.files.base import ContentFile
from django.utils import timezone

from tenants.backups import archive, services
from tenants.backups.models import Backup, BackupKind, BackupStatus
from tenants.backups.selectors import tenants_due_for_backup
from tenants.models import Plan


def backup_aged(tenant, days: float, *, kind=BackupKind.SCHEDULED, status=BackupStatus.READY, now) -> Backup:
    name = archive.backup_storage().save(f"{tenant.schema_name}/aged-{days}.crmbackup", ContentFile(b"x"))
    backup = Backup.objects.create(tenant=tenant, kind=kind, status=status, storage_name=name, size_bytes=1)
    Backup.objects.filter(pk=backup.pk).update(created_at=now - timedelta(days=days))
    return backup


def test_retention_keeps_exactly_the_plans_days(tenant_a):
    # given backups of every age around the plan's 30 days (team plan)
    now = timezone.now()
    retention = tenant_a.plan.backup_retention_days
    ages = [0, 1, retention - 1, retention - 0.01, retention + 0.01, retention + 1, retention + 40]
    made = {
        age: backup_aged(tenant_a, age, now=now, kind=BackupKind.MANUAL if age == 1 else BackupKind.SCHEDULED)
        for age in ages
    }

    # when retention runs
    services.backups_prune(now=now)

    # then exactly those younger than the retention remain, files of the others are gone
    kept = set(Backup.objects.filter(tenant=tenant_a).values_list("pk", flat=True))
    assert kept == {made[age].pk for age in ages if age < retention}
    for age in ages:
        assert archive.backup_storage().exists(made[age].storage_name) == (age < retention)


def test_retention_follows_each_plan(tenant_a, tenant_b):
    now = timezone.now()
    team, business = tenant_a.plan, tenant_b.plan
    assert team.backup_retention_days < business.backup_retention_days
    age = team.backup_retention_days + 1
    fresh_a, old_a = backup_aged(tenant_a, 0, now=now), backup_aged(tenant_a, age, now=now)
    old_b = backup_aged(tenant_b, age, now=now)

    services.backups_prune(now=now)

    assert not Backup.objects.filter(pk=old_a.pk).exists()
    assert Backup.objects.filter(pk=fresh_a.pk).exists()
    assert Backup.objects.filter(pk=old_b.pk).exists()


def test_the_newest_backup_is_kept_even_when_older_than_retention(tenant_a):
    now = timezone.now()
    only = backup_aged(tenant_a, tenant_a.plan.backup_retention_days + 5, now=now)

    services.backups_prune(now=now)

    assert Backup.objects.filter(pk=only.pk).exists()


def test_a_tenant_is_due_once_its_last_scheduled_backup_is_a_frequency_old(tenant_a, tenant_b):
    now = timezone.now()
    backup_aged(tenant_a, 0.5, now=now)
    backup_aged(tenant_b, 1.01, now=now)

    due = set(tenants_due_for_backup(now=now).values_list("slug", flat=True))

    assert "acme" not in due
    assert "globex" in due


def test_weekly_plans_are_due_weekly(tenant_a):
    now = timezone.now()
    Plan.objects.filter(pk=tenant_a.plan_id).update(backup_frequency="weekly")
    backup_aged(tenant_a, 3, now=now)

    assert "acme" not in set(tenants_due_for_backup(now=now).values_list("slug", flat=True))
    assert "acme" in set(tenants_due_for_backup(now=now + timedelta(days=4)).values_list("slug", flat=True))


def test_dispatch_queues_each_due_tenant_once_spread_over_the_window(
    tenant_a, tenant_b, settings, django_capture_on_commit_callbacks
):
    settings.BACKUP_SPREAD_SECONDS = 3600
    with django_capture_on_commit_callbacks() as queued:
        first = services.backups_schedule_dispatch()
    second = services.backups_schedule_dispatch()

    assert first >= 2
    assert len(queued) == first
    assert second == 0
    offsets = {services.schedule_offset(tenant) for tenant in (tenant_a, tenant_b)}
    assert all(0 <= offset < 3600 for offset in offsets)
    assert len(offsets) == 2
    assert Backup.objects.filter(tenant=tenant_a, kind=BackupKind.SCHEDULED, status=BackupStatus.QUEUED).count() == 1
