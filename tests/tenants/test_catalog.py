"""Checks on the real PostgreSQL catalog (ARCHITECTURE.md, decisions 3 and 5)."""

from __future__ import annotations

from django.db import connection


def test_no_foreign_key_crosses_from_one_schema_to_another(db):
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT src_ns.nspname, src.relname, con.conname, dst_ns.nspname, dst.relname
            FROM pg_constraint con
            JOIN pg_class src ON src.oid = con.conrelid
            JOIN pg_namespace src_ns ON src_ns.oid = src.relnamespace
            JOIN pg_class dst ON dst.oid = con.confrelid
            JOIN pg_namespace dst_ns ON dst_ns.oid = dst.relnamespace
            WHERE con.contype = 'f' AND src_ns.oid <> dst_ns.oid
            """
        )
        crossing = cursor.fetchall()
        cursor.execute(
            "SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND connamespace::regnamespace::text = 't_acme'"
        )
        foreign_keys_in_a_tenant = cursor.fetchone()[0]

    assert foreign_keys_in_a_tenant > 0, "the check must look at real foreign keys"
    assert crossing == []


def test_every_integer_primary_key_is_64_bit(db):
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT n.nspname, cls.relname, att.attname, format_type(att.atttypid, att.atttypmod)
            FROM pg_constraint con
            JOIN pg_class cls ON cls.oid = con.conrelid
            JOIN pg_namespace n ON n.oid = cls.relnamespace
            JOIN pg_attribute att ON att.attrelid = cls.oid AND att.attnum = ANY(con.conkey)
            WHERE con.contype = 'p'
              AND (n.nspname IN ('public', 't_acme', 't_globex') OR n.nspname = %s)
              AND att.atttypid IN ('int2'::regtype, 'int4'::regtype)
              AND cls.relname NOT LIKE 'kombu_%%'
            """,
            ["zz_tenant_template"],
        )
        narrow = cursor.fetchall()

    assert narrow == []


def test_tenant_schemas_hold_tenant_tables_and_no_platform_tables(db):
    with connection.cursor() as cursor:
        cursor.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = 't_acme'")
        tables = {row[0] for row in cursor.fetchall()}

    assert {
        "accounts_user",
        "accounts_role",
        "deals_pipeline",
        "deals_stage",
        "clients_contact",
        "django_session",
    } <= tables
    assert not tables & {"tenants_tenant", "tenants_plan", "tenants_domain", "django_admin_log"}
