"""Provisioning by DDL replay: all or nothing, race-safe, equal to running the migrations."""

from __future__ import annotations

import dataclasses
import threading

import pytest
from django.db import connection, connections, transaction
from django_tenants.utils import schema_exists

from tenants import schema_template
from tenants.errors import SignupRejected
from tenants.models import Domain, SchemaTemplate, Tenant
from tenants.services import SignupRequest, tenant_delete, tenant_signup
from tests.conftest import PASSWORD


def request_for(slug: str) -> SignupRequest:
    return SignupRequest(
        company_name=f"{slug} Inc",
        slug=slug,
        admin_name="Test Admin",
        admin_email=f"admin@{slug}.example",
        admin_password=PASSWORD,
        plan="team",
    )


def test_failure_after_the_schema_is_created_leaves_no_trace(committed_db, monkeypatch):
    def explode(**_kwargs):
        assert schema_exists("t_halfway"), "the schema should exist when the failure strikes"
        raise RuntimeError("injected failure")

    monkeypatch.setattr("tenants.services.workspace_initialize", explode)

    with pytest.raises(RuntimeError, match="injected failure"):
        tenant_signup(request=request_for("halfway"))

    assert not schema_exists("t_halfway")
    assert not Tenant.objects.filter(slug="halfway").exists()
    assert not Domain.objects.filter(domain="halfway.localhost").exists()


def test_two_signups_racing_for_one_slug_exactly_one_wins(committed_db):
    barrier = threading.Barrier(2)
    outcomes: list[object] = []

    def attempt(name: str) -> None:
        barrier.wait()
        try:
            outcomes.append(tenant_signup(request=dataclasses.replace(request_for("racer"), admin_name=name)))
        except SignupRejected as rejected:
            outcomes.append(rejected)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=attempt, args=(name,)) for name in ("First", "Second")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    try:
        winners = [outcome for outcome in outcomes if isinstance(outcome, Tenant)]
        losers = [outcome for outcome in outcomes if isinstance(outcome, SignupRejected)]
        assert len(winners) == 1
        assert len(losers) == 1
        assert losers[0].errors == {"slug": [("This address is already taken.", "taken")]}
        assert Tenant.objects.filter(slug="racer").count() == 1
    finally:
        for tenant in Tenant.objects.filter(slug="racer"):
            tenant_delete(tenant=tenant)


def _catalog(schema_name: str) -> dict[str, list[tuple]]:
    """Everything that makes a schema's shape, with the schema's own name blanked out."""
    queries = {
        "columns": """
            SELECT table_name, column_name, data_type, is_nullable, character_maximum_length,
                   numeric_precision, is_identity, identity_generation,
                   replace(coalesce(column_default, ''), %(schema)s, 'S')
            FROM information_schema.columns WHERE table_schema = %(schema)s ORDER BY 1, 2""",
        "indexes": """
            SELECT tablename, indexname, replace(indexdef, %(schema)s, 'S')
            FROM pg_indexes WHERE schemaname = %(schema)s ORDER BY 1, 2""",
        "constraints": """
            SELECT cls.relname, con.conname, con.contype, replace(pg_get_constraintdef(con.oid), %(schema)s, 'S')
            FROM pg_constraint con JOIN pg_class cls ON cls.oid = con.conrelid
            JOIN pg_namespace n ON n.oid = con.connamespace
            WHERE n.nspname = %(schema)s ORDER BY 1, 2""",
        "sequences": """
            SELECT sequence_name, data_type, start_value, increment
            FROM information_schema.sequences WHERE sequence_schema = %(schema)s ORDER BY 1""",
        "migrations": "SELECT app, name FROM {schema}.django_migrations ORDER BY 1, 2",
        "content_types": "SELECT app_label, model FROM {schema}.django_content_type ORDER BY 1, 2",
    }
    catalog = {}
    with connection.cursor() as cursor:
        for name, sql in queries.items():
            cursor.execute(sql.replace("{schema}", f'"{schema_name}"'), {"schema": schema_name})
            catalog[name] = cursor.fetchall()
    return catalog


@pytest.mark.slow
def test_replayed_schema_equals_a_migrated_one(committed_db):
    try:
        schema_template.schema_create_by_migrations("t_cmp_migrated")
        with transaction.atomic():
            schema_template.schema_create_from_template("t_cmp_replayed")

        migrated, replayed = _catalog("t_cmp_migrated"), _catalog("t_cmp_replayed")
        assert migrated["columns"], "the migrated schema should have tables"
        for part in migrated:
            assert replayed[part] == migrated[part], f"{part} differ"
    finally:
        schema_template.schema_drop("t_cmp_migrated")
        schema_template.schema_drop("t_cmp_replayed")


def test_a_stale_template_is_refused_not_replayed(db):
    SchemaTemplate.objects.update(fingerprint="captured-for-other-migrations")

    with pytest.raises(schema_template.TemplateMissing):
        tenant_signup(request=request_for("stale"))
    assert not Tenant.objects.filter(slug="stale").exists()


def test_deleting_a_tenant_drops_its_schema_and_rows(committed_db):
    tenant = tenant_signup(request=request_for("shortlived"))

    tenant_delete(tenant=tenant)

    assert not schema_exists("t_shortlived")
    assert not Tenant.objects.filter(slug="shortlived").exists()
    assert not Domain.objects.filter(domain="shortlived.localhost").exists()
