"""Proposal numbers: `Q-<year>-<nnnn>`, sequential per year and workspace, never shared under concurrency."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator

import pytest
from django.db import connection, connections, transaction
from django_tenants.utils import schema_context

from accounts.models import User
from crm.catalog.models import Quote, QuoteNumberCounter
from crm.catalog.services import quote_create, quote_duplicate
from crm.catalog.workspace_time import workspace_today
from tests.conftest import ALICE_EMAIL, BOB_EMAIL, inside


def sequence_of(number: str) -> int:
    return int(number.rsplit("-", 1)[1])


def test_number_names_the_year_and_a_four_digit_sequence(alice):
    quote = quote_create(actor=alice, title="Proposal")

    assert re.fullmatch(rf"Q-{workspace_today().year}-\d{{4}}", quote.number)


def test_numbers_follow_each_other(alice):
    first = quote_create(actor=alice, title="First")
    second = quote_create(actor=alice, title="Second")
    third = quote_duplicate(actor=alice, quote=first)

    assert [sequence_of(q.number) for q in (first, second, third)] == [
        sequence_of(first.number),
        sequence_of(first.number) + 1,
        sequence_of(first.number) + 2,
    ]


def test_sequence_continues_from_the_years_counter(alice):
    QuoteNumberCounter.objects.update_or_create(year=workspace_today().year, defaults={"last_number": 41})

    quote = quote_create(actor=alice, title="Proposal")

    assert quote.number == f"Q-{workspace_today().year}-0042"


def test_last_years_counter_does_not_move_this_years_numbers(alice):
    year = workspace_today().year
    QuoteNumberCounter.objects.filter(year=year).delete()
    QuoteNumberCounter.objects.create(year=year - 1, last_number=977)

    quote = quote_create(actor=alice, title="Proposal")

    assert quote.number == f"Q-{year}-0001"


def test_sequence_grows_past_four_digits(alice):
    QuoteNumberCounter.objects.update_or_create(year=workspace_today().year, defaults={"last_number": 9999})

    quote = quote_create(actor=alice, title="Proposal")

    assert quote.number == f"Q-{workspace_today().year}-10000"


def test_trashed_quotes_number_is_not_reused(alice):
    trashed = quote_create(actor=alice, title="Trashed")
    Quote.all_objects.filter(pk=trashed.pk).update(deleted_at=trashed.created_at)

    quote = quote_create(actor=alice, title="Next")

    assert sequence_of(quote.number) == sequence_of(trashed.number) + 1


def test_each_workspace_numbers_on_its_own(tenant_a, tenant_b):
    with inside(tenant_a):
        QuoteNumberCounter.objects.update_or_create(year=workspace_today().year, defaults={"last_number": 500})
        in_a = quote_create(actor=User.objects.get(email=ALICE_EMAIL), title="A")
    with inside(tenant_b):
        QuoteNumberCounter.objects.filter(year=workspace_today().year).delete()
        in_b = quote_create(actor=User.objects.get(email=BOB_EMAIL), title="B")

    assert sequence_of(in_a.number) == 501
    assert sequence_of(in_b.number) == 1


# --- concurrency: real transactions on separate connections ------------------------------


@pytest.fixture
def acme_committed(committed_db) -> Iterator:
    """Acme's schema for committed work; the quotes made and the counter are restored afterwards."""
    from tenants.models import Tenant

    tenant = Tenant.objects.get(slug="acme")
    with schema_context(tenant.schema_name):
        year = workspace_today().year
        before = QuoteNumberCounter.objects.filter(year=year).values_list("last_number", flat=True).first()
        existing = set(Quote.all_objects.values_list("pk", flat=True))
    connection.set_schema_to_public()
    yield tenant
    with schema_context(tenant.schema_name):
        Quote.all_objects.exclude(pk__in=existing).delete()
        if before is None:
            QuoteNumberCounter.objects.filter(year=year).delete()
        else:
            QuoteNumberCounter.objects.filter(year=year).update(last_number=before)
    connection.set_schema_to_public()


def run_in_threads(tenant, work, count: int) -> tuple[list, list[BaseException]]:
    results: list = []
    errors: list[BaseException] = []
    start = threading.Barrier(count)

    def run(index: int) -> None:
        try:
            connection.set_tenant(tenant)
            connection.ensure_connection()
            start.wait()
            results.append(work(index))
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results, errors


def test_two_concurrent_creates_get_different_numbers(acme_committed):
    held = threading.Event()
    finished_at: dict[str, float] = {}

    def create(index: int) -> str:
        alice = User.objects.get(email=ALICE_EMAIL)
        if index == 0:
            with transaction.atomic():
                number = quote_create(actor=alice, title="First").number
                held.set()
                time.sleep(0.5)  # keep the transaction (and the counter row lock) open
                finished_at["first_commit"] = time.monotonic()
            return number
        held.wait(timeout=10)
        number = quote_create(actor=alice, title="Second").number
        finished_at["second"] = time.monotonic()
        return number

    numbers, errors = run_in_threads(acme_committed, create, 2)

    assert errors == []
    assert len(set(numbers)) == 2
    assert sorted(sequence_of(number) for number in numbers) == [
        min(map(sequence_of, numbers)),
        min(map(sequence_of, numbers)) + 1,
    ]
    assert finished_at["second"] >= finished_at["first_commit"], "the second create waited for the first to commit"


def test_many_concurrent_creates_get_a_gapless_run_of_numbers(acme_committed):
    def create(index: int) -> str:
        return quote_create(actor=User.objects.get(email=ALICE_EMAIL), title=f"Race {index}").number

    numbers, errors = run_in_threads(acme_committed, create, 8)

    assert errors == []
    sequences = sorted(sequence_of(number) for number in numbers)
    assert sequences == list(range(sequences[0], sequences[0] + 8))
