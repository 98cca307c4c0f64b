"""Acting inside Acme: Alice the administrator, Rex a sales rep; custom fields on contacts."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts import roles
from accounts.models import Role, User
from accounts.services import user_create
from crm.clients.services import company_create, contact_create
from crm.custom_fields.services import custom_field_create
from crm.history.models import FieldChange
from crm.models import ExchangeRate


@pytest.fixture
def rex(acme) -> User:
    return user_create(
        email="rex@acme.example", full_name="Rex Rep", password=None, role=Role.objects.get(code=roles.SALES_REP)
    )


@pytest.fixture
def euro(acme) -> ExchangeRate:
    return ExchangeRate.objects.create(
        currency="EUR", rate=Decimal("1.1"), valid_from=timezone.localdate() - timedelta(days=30)
    )


@pytest.fixture
def company(alice):
    return company_create(actor=alice, name="Initech")


@pytest.fixture
def contact(alice, company):
    return contact_create(actor=alice, first_name="Peter", last_name="Gibbons", company=company, job_title="CEO")


@pytest.fixture
def tier(alice):
    """A choice field on contacts, with a Russian label."""
    return custom_field_create(
        actor=alice,
        entity="contact",
        label="Tier",
        label_translations={"ru": "Уровень"},
        kind="choice",
        key="tier",
        choices=[
            {"value": "gold", "label": "Gold", "labels": {"ru": "Золото"}},
            {"value": "silver", "label": "Silver", "labels": {"ru": "Серебро"}},  # noqa: RUF001 - Russian
        ],
    )


def history_of(record) -> list[FieldChange]:
    """The record's history rows, oldest first (the order they were written in)."""
    return list(
        FieldChange.objects.filter(record_type=record._meta.model_name, record_id=record.pk).order_by(
            "created_at", "id"
        )
    )


def changed(record) -> list[tuple[str, object, object]]:
    return [(row.field, row.old_value, row.new_value) for row in history_of(record)]
