"""The host lookup: one statement finds the workspace, its plan and maintenance, and
switches the connection to the workspace's schema."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from tenants.backups.models import Maintenance
from tenants.backups.selectors import maintenance_for
from tenants.host_lookup import tenant_for_host
from tenants.models import Plan, Tenant


def field_values(instance) -> dict:
    return {field.attname: getattr(instance, field.attname) for field in type(instance)._meta.concrete_fields}


def current_search_path() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('search_path')")
        return cursor.fetchone()[0]


def test_the_workspace_and_its_plan_read_exactly_as_the_orm_reads_them(tenant_a):
    connection.set_schema_to_public()
    expected = Tenant.objects.select_related("plan").get(pk=tenant_a.pk)

    found = tenant_for_host("acme.localhost")

    assert field_values(found) == field_values(expected)
    assert field_values(found.plan) == field_values(expected.plan)
    assert isinstance(found.plan, Plan)
    connection.set_schema_to_public()


def test_the_lookup_switches_the_schema_so_the_next_query_needs_no_set(tenant_a):
    connection.set_schema_to_public()
    current_search_path()  # the connection as a previous request leaves it: search_path set

    with CaptureQueriesContext(connection) as queries:
        tenant = tenant_for_host("acme.localhost")
        path = current_search_path()

    assert tenant.schema_name == tenant_a.schema_name
    assert connection.schema_name == tenant_a.schema_name
    assert path.split(",")[0].strip().strip('"') == tenant_a.schema_name
    assert [q["sql"] for q in queries.captured_queries if q["sql"].startswith("SET ")] == []
    assert len(queries.captured_queries) == 2  # the lookup and the probe above
    connection.set_schema_to_public()


def test_maintenance_comes_along_with_the_workspace(tenant_a, django_assert_num_queries):
    connection.set_schema_to_public()
    quiet = tenant_for_host("acme.localhost")
    with django_assert_num_queries(0):
        assert maintenance_for(tenant=quiet) is None

    connection.set_schema_to_public()
    Maintenance.objects.create(tenant=tenant_a, retry_after_seconds=30)
    held = tenant_for_host("acme.localhost")

    with django_assert_num_queries(0):
        assert maintenance_for(tenant=held).retry_after_seconds == 30
    connection.set_schema_to_public()


def test_an_unknown_host_finds_nothing_and_leaves_the_schema_alone(tenant_a):
    connection.set_schema_to_public()
    before = current_search_path()

    assert tenant_for_host("nobody.localhost") is None
    assert connection.schema_name == "public"
    assert current_search_path() == before


def test_a_request_reads_the_host_in_one_statement(client_a, django_assert_num_queries):
    # The sign-in page needs the workspace and nothing else from the database.
    with django_assert_num_queries(1):
        assert client_a.get("/login/").status_code == 200
