"""The host lookup: one statement finds the workspace, its plan and maintenance, and
switches the connection to the workspace's schema."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from tenants.backups.models import Maintenance
from tenants.backups.selectors import maintenance_for
from tenants.host_lookup import forget_hosts, tenant_for_host
from tenants.models import Domain, Plan, Tenant, TenantStatus


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


def test_a_first_request_reads_the_host_in_one_statement(client_a, django_assert_num_queries):
    forget_hosts()
    # The sign-in page needs the workspace and nothing else from the database.
    with django_assert_num_queries(1):
        assert client_a.get("/login/").status_code == 200


def test_a_known_host_costs_one_small_question_and_no_reread(client_a, django_assert_num_queries):
    client_a.get("/login/")

    with django_assert_num_queries(1) as queries:
        assert client_a.get("/login/").status_code == 200

    (statement,) = [query["sql"] for query in queries.captured_queries]
    assert "tenant_at_host" in statement
    assert "tenants_tenant" not in statement  # the versions matched: nothing read again


def test_a_status_change_is_seen_by_the_very_next_lookup(tenant_a):
    connection.set_schema_to_public()
    assert tenant_for_host("acme.localhost").status == tenant_a.status

    connection.set_schema_to_public()
    Tenant.objects.filter(pk=tenant_a.pk).update(status=TenantStatus.SUSPENDED)
    found = tenant_for_host("acme.localhost")

    assert found.status == TenantStatus.SUSPENDED
    connection.set_schema_to_public()


def test_every_change_in_one_transaction_is_seen_not_only_the_first(tenant_a):
    # Within one transaction a row keeps its xmin; its new version still moves (ctid).
    connection.set_schema_to_public()
    Tenant.objects.filter(pk=tenant_a.pk).update(name="First")
    assert tenant_for_host("acme.localhost").name == "First"

    connection.set_schema_to_public()
    Tenant.objects.filter(pk=tenant_a.pk).update(name="Second")

    assert tenant_for_host("acme.localhost").name == "Second"
    connection.set_schema_to_public()


def test_a_plan_change_is_seen_by_the_very_next_lookup(tenant_a):
    connection.set_schema_to_public()
    assert tenant_for_host("acme.localhost").plan.max_contacts != 123_457

    connection.set_schema_to_public()
    Plan.objects.filter(pk=tenant_a.plan_id).update(max_contacts=123_457)

    assert tenant_for_host("acme.localhost").plan.max_contacts == 123_457
    connection.set_schema_to_public()


def test_maintenance_beginning_and_ending_is_seen_by_the_very_next_lookup(tenant_a):
    connection.set_schema_to_public()
    assert maintenance_for(tenant=tenant_for_host("acme.localhost")) is None

    connection.set_schema_to_public()
    held = Maintenance.objects.create(tenant=tenant_a, retry_after_seconds=30)
    assert maintenance_for(tenant=tenant_for_host("acme.localhost")) is not None

    connection.set_schema_to_public()
    held.delete()
    assert maintenance_for(tenant=tenant_for_host("acme.localhost")) is None
    connection.set_schema_to_public()


def test_a_removed_domain_stops_answering_at_once(tenant_a):
    connection.set_schema_to_public()
    assert tenant_for_host("acme.localhost") is not None
    connection.set_schema_to_public()
    before = current_search_path()

    Domain.objects.filter(domain="acme.localhost").delete()

    assert tenant_for_host("acme.localhost") is None
    assert current_search_path() == before


def test_a_domain_moved_to_another_workspace_leads_there_at_once(tenant_a, tenant_b):
    connection.set_schema_to_public()
    assert tenant_for_host("acme.localhost").pk == tenant_a.pk

    connection.set_schema_to_public()
    Domain.objects.filter(domain="acme.localhost").update(tenant=tenant_b, is_primary=False)
    found = tenant_for_host("acme.localhost")

    assert found.pk == tenant_b.pk
    assert current_search_path().split(",")[0].strip().strip('"') == tenant_b.schema_name
    connection.set_schema_to_public()


def test_what_one_request_changes_on_its_workspace_does_not_reach_the_next(tenant_a):
    connection.set_schema_to_public()
    first = tenant_for_host("acme.localhost")
    first.name = "Changed in memory only"
    first.plan.features.append("changed-in-memory")

    connection.set_schema_to_public()
    second = tenant_for_host("acme.localhost")

    assert second.name == tenant_a.name
    assert "changed-in-memory" not in second.plan.features
    assert second is not first
    connection.set_schema_to_public()
