"""`platform_setup` (every deploy) migrates only the schemas that are behind."""

from __future__ import annotations

from django.core.management import call_command
from django_tenants.signals import schema_migrated

from tenants.models import Tenant
from tenants.schema_template import migrations_fingerprint


def test_new_workspaces_are_recorded_at_the_current_migrations(tenant_a):
    assert tenant_a.schema_fingerprint == migrations_fingerprint()


def test_only_schemas_behind_are_migrated_and_then_recorded_as_current(committed_db):
    Tenant.objects.filter(slug="acme").update(schema_fingerprint="before-the-last-deploy")
    migrated: list[str] = []

    def record(sender, schema_name, **kwargs):
        migrated.append(schema_name)

    schema_migrated.connect(record)
    try:
        call_command("platform_setup", verbosity=0)
    finally:
        schema_migrated.disconnect(record)

    assert "t_acme" in migrated
    assert "t_globex" not in migrated
    assert Tenant.objects.get(slug="acme").schema_fingerprint == migrations_fingerprint()
