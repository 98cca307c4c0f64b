"""Tasks, products and quotes lists: the list engine over their selectors."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from crm.activities.models import Task
from crm.activities.services import task_create
from crm.catalog.models import Product, Quote
from crm.catalog.services import product_create, quote_create
from tests.conftest import inside

LISTS = ["/tasks/", "/products/", "/quotes/"]


def _rows(owner, count: int) -> None:
    for number in range(count):
        task_create(
            actor=owner, title=f"Task {number:02d}", due_at=timezone.now() + timedelta(days=number), owner=owner
        )
        product_create(actor=owner, sku=f"SKU-{number:02d}", name=f"Product {number:02d}", price=Decimal("10"))
        quote_create(actor=owner, title=f"Quote {number:02d}", owner=owner)


@pytest.mark.parametrize("path", LISTS)
def test_each_list_renders_within_a_query_bound(alice, web_alice, path, django_assert_max_num_queries):
    _rows(alice, 12)
    with django_assert_max_num_queries(16):
        response = web_alice.get(path)
    assert response.status_code == 200
    assert "12 records" in response.content.decode()


def test_a_rep_sees_only_his_tasks_and_quotes(alice, rex, web_rex):
    _rows(alice, 2)
    task_create(actor=rex, title="Rex task", due_at=timezone.now(), owner=rex)
    quote_create(actor=rex, title="Rex quote", owner=rex)
    tasks = web_rex.get("/tasks/").content.decode()
    assert "Rex task" in tasks and "Task 01" not in tasks
    quotes = web_rex.get("/quotes/").content.decode()
    assert "Rex quote" in quotes and "Quote 01" not in quotes
    assert "Product 01" in web_rex.get("/products/").content.decode()  # the catalogue is for everyone


def test_another_workspace_lists_none_of_these(alice, tenant_a, web_bob):
    with inside(tenant_a):
        _rows(alice, 1)
    for path in LISTS:
        body = web_bob.get(path).content.decode()
        assert "Task 00" not in body and "Product 00" not in body and "Quote 00" not in body


def test_bulk_trash_of_another_workspaces_task_does_nothing(alice, tenant_a, web_bob):
    with inside(tenant_a):
        task = Task.objects.create(pk=10**12, title="Acme task", due_at=timezone.now(), owner=alice)
    web_bob.post("/tasks/", {"action": "trash", "ids": [task.pk]})
    with inside(tenant_a):
        assert Task.all_objects.get(pk=task.pk).deleted_at is None


def test_tasks_filter_overdue_and_bulk_reassign(alice, rex, web_alice):
    late = task_create(actor=alice, title="Late call", due_at=timezone.now() - timedelta(days=2), owner=alice)
    task_create(actor=alice, title="Future call", due_at=timezone.now() + timedelta(days=2), owner=alice)
    body = web_alice.get("/tasks/", {"overdue": "on"}).content.decode()
    assert "Late call" in body and "Future call" not in body
    web_alice.post("/tasks/", {"action": "assign", "owner": rex.pk, "ids": [late.pk]})
    assert Task.objects.get(pk=late.pk).owner_id == rex.pk


def test_products_off_sale_and_search(alice, web_alice):
    product_create(actor=alice, sku="OLD-1", name="Retired widget", price=Decimal("1"), is_active=False)
    product_create(actor=alice, sku="NEW-1", name="Shiny widget", price=Decimal("1"))
    on_sale = web_alice.get("/products/").content.decode()
    assert "Shiny widget" in on_sale and "Retired widget" not in on_sale
    off = web_alice.get("/products/", {"active": "off"}).content.decode()
    assert "Retired widget" in off and "Shiny widget" not in off
    found = web_alice.get("/products/", {"q": "new-1", "active": "all"}).content.decode()
    assert "Shiny widget" in found and "Retired widget" not in found


def test_quotes_bad_filters_are_field_errors(web_alice):
    response = web_alice.get("/quotes/", {"status": "galactic", "created_from": "soon"})
    assert response.status_code == 200 and response.content.decode().count('class="error"') >= 2


def test_quote_csv_export(alice, web_alice):
    quote_create(actor=alice, title="Exported quote")
    response = web_alice.get("/quotes/", {"format": "csv"})
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    assert text.startswith("Number,Title") and "Exported quote" in text
    assert Quote.objects.count() == 1 and Product.objects.count() == 0
