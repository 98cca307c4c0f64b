"""A field's indexes, built and dropped by a real Celery worker after the service's change
commits, and used by PostgreSQL for the lists' filters and sorts; the daily purge fanned
out to every workspace."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection, transaction
from django.utils import timezone

from crm.clients.models import Contact
from crm.clients.selectors import contact_list
from crm.custom_fields.indexes import existing_indexes, existing_statistics, index_name, index_sync
from crm.custom_fields.models import CustomField
from crm.custom_fields.queries import CustomSort, filters_apply, filters_from_params, sort_annotate, sorted_page_ids
from crm.custom_fields.services import custom_field_create, custom_field_remove, custom_field_update
from crm.custom_fields.tasks import custom_fields_purge_dispatch
from tenants.models import Tenant
from tests.conftest import inside
from tests.processes import celery_worker, wait_for

pytestmark = pytest.mark.slow
ROWS = 3000


@pytest.fixture(scope="module")
def worker(django_db_setup, tmp_path_factory) -> Iterator[Path]:
    log_file = tmp_path_factory.mktemp("custom-field-worker") / "worker.log"
    with celery_worker(log_file):
        yield log_file


@pytest.fixture
def acme(committed_db, worker) -> Iterator[Tenant]:
    """Acme on committed data with 3,000 contacts; everything made here is removed after."""
    tenant = Tenant.objects.get(slug="acme")
    with inside(tenant):
        tiers = ["gold"] + ["silver"] * 49  # 2% gold
        Contact.objects.bulk_create(
            Contact(
                last_name=f"Indexed {number:05d}",
                full_name=f"Indexed {number:05d}",
                custom_fields={
                    "tier": tiers[number % 50],
                    "signed_on": f"2024-{1 + number % 12:02d}-{1 + number % 28:02d}",
                    "nickname": f"zebra{number}" if number % 500 == 0 else f"plain{number}",
                },
            )
            for number in range(ROWS)
        )
    try:
        yield tenant
    finally:
        with inside(tenant):
            Contact.all_objects.filter(last_name__startswith="Indexed").delete()
            for field_id, entity in CustomField.all_objects.values_list("pk", "entity"):
                CustomField.all_objects.filter(pk=field_id).delete()
                index_sync(field_id=field_id, entity=entity)  # drops what the test left
            from accounts.models import AuditEntry

            AuditEntry.objects.filter(action__startswith="custom_field.").delete()


def _plan(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("ANALYZE clients_contact")
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


def _indexes(field: CustomField) -> dict[str, bool]:
    return existing_indexes(field.entity, field.pk)


def test_a_filterable_fields_index_is_built_and_used_for_its_filter_and_sort(acme, worker):
    with inside(acme):
        tier = custom_field_create(
            actor=None, entity="contact", label="Tier", kind="choice", choices=["Gold", "Silver"], filterable=True
        )
        signed = custom_field_create(actor=None, entity="contact", label="Signed on", kind="date", filterable=True)
        sort_name, signed_name = index_name("contact", tier.pk, "sort"), index_name("contact", signed.pk, "sort")

        assert wait_for(lambda: _indexes(tier) == {sort_name: True} and _indexes(signed) == {signed_name: True}), (
            worker.read_text()
        )
        # with statistics on each field's values, so PostgreSQL knows how common a value is
        assert wait_for(lambda: existing_statistics("contact", tier.pk) == [index_name("contact", tier.pk, "stats")])
        fields = [tier, signed]
        gold = filters_apply(
            contact_list(actor=None).order_by(), filters_from_params([("cf.tier", "Gold")], fields=fields)
        )
        assert sort_name in _plan(gold.values("pk"))
        narrow = filters_apply(
            contact_list(actor=None).order_by(),
            filters_from_params(
                [("cf.signed_on__from", "2024-03-05"), ("cf.signed_on__to", "2024-03-06")], fields=fields
            ),
        )
        assert signed_name in _plan(narrow.values("pk"))
        # sorting newest first: a backward walk of the same index, rows with a value first
        sort = CustomSort(field=signed, descending=True)
        annotated = sort_annotate(contact_list(actor=None).order_by(), sort)
        valued = annotated.filter(**{f"{sort.alias}__isnull": False}).order_by(f"-{sort.alias}", "-pk")[:26]
        assert f"Index Scan Backward using {signed_name}" in _plan(valued.values("pk"))
        ids = sorted_page_ids(annotated, sort, after=None, limit=5)
        dates = [Contact.objects.get(pk=pk).custom_fields["signed_on"] for pk in ids]
        assert dates == sorted(dates, reverse=True) and dates[0] == "2024-12-28"


def test_a_searchable_text_fields_trigram_index_serves_in_word_matches(acme, worker):
    with inside(acme):
        nickname = custom_field_create(actor=None, entity="contact", label="Nickname", kind="text", searchable=True)
        trigram = index_name("contact", nickname.pk, "trgm")

        assert wait_for(lambda: _indexes(nickname) == {trigram: True}), worker.read_text()
        # searchable but not filterable: the list may not filter by it, quick search may
        from django.db.models.fields.json import KeyTextTransform
        from django.db.models.functions import Lower

        matches = (
            contact_list(actor=None)
            .order_by()
            .alias(text=Lower(KeyTextTransform("nickname", "custom_fields")))
            .filter(text__contains="zebra")
        )
        assert trigram in _plan(matches.values("pk"))
        assert matches.count() == ROWS // 500


def test_turning_a_flag_off_and_removing_a_field_drop_its_indexes(acme, worker):
    with inside(acme):
        nickname = custom_field_create(
            actor=None, entity="contact", label="Nickname", kind="text", searchable=True, filterable=True
        )
        assert wait_for(lambda: len(_indexes(nickname)) == 2), worker.read_text()

        custom_field_update(actor=None, field=nickname, filterable=False)
        assert wait_for(lambda: set(_indexes(nickname)) == {index_name("contact", nickname.pk, "trgm")})

        custom_field_remove(actor=None, field=nickname)
        assert wait_for(lambda: _indexes(nickname) == {}), worker.read_text()
        assert existing_statistics("contact", nickname.pk) == []


def test_an_invalid_index_left_by_an_interrupted_build_is_rebuilt(acme):
    with inside(acme):
        with transaction.atomic():
            score = CustomField.objects.create(
                entity="contact", key="score", label="Score", kind="number", filterable=True
            )
        name = index_name("contact", score.pk, "sort")
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE INDEX \"{name}\" ON clients_contact ((custom_fields -> 'score'), id)")
            cursor.execute(
                "UPDATE pg_index SET indisvalid = false WHERE indexrelid = %s::regclass",
                [f'"{acme.schema_name}"."{name}"'],
            )
        assert _indexes(score) == {name: False}

        result = index_sync(field_id=score.pk, entity="contact")

        assert (result.dropped, result.created) == ([name], [name, index_name("contact", score.pk, "stats")])
        assert _indexes(score) == {name: True}


def test_the_daily_purge_reaches_every_workspace(acme, worker, settings):
    settings.TENANT_FANOUT_SPREAD_SECONDS = 0
    with inside(acme):
        old = custom_field_create(actor=None, entity="contact", label="Old", kind="text")
        Contact.objects.filter(last_name="Indexed 00001").update(custom_fields={"old": "gone soon"})
        custom_field_remove(actor=None, field=old)
        CustomField.all_objects.filter(pk=old.pk).update(removed_at=timezone.now() - timedelta(days=31))

    queued = custom_fields_purge_dispatch.apply().get()

    assert queued == Tenant.objects.exclude(schema_name="public").count()
    with inside(acme):
        assert wait_for(lambda: not CustomField.all_objects.filter(pk=old.pk).exists()), worker.read_text()
        assert Contact.objects.get(last_name="Indexed 00001").custom_fields == {}
