"""Plan limits bite where they matter, with code plan_limit_reached and a way out."""

from __future__ import annotations

import pytest

from accounts.models import User
from crm.clients.models import Contact
from crm.clients.services import contact_create
from crm.deals.services import pipeline_create
from crm.leads.services import lead_form_create
from crm.limits import PlanLimitReached
from tests.conftest import ALICE_EMAIL, inside


@pytest.fixture
def alice_on_free_plan(tenant_a):
    from tenants.models import Plan

    tenant_a.plan = Plan.objects.get(code="free")  # 1,000 contacts, 1 lead form, 1 pipeline
    tenant_a.save(update_fields=["plan"])
    with inside(tenant_a):
        yield User.objects.get(email=ALICE_EMAIL)


def test_the_contact_limit_refuses_the_one_too_many_and_says_how_to_raise_it(alice_on_free_plan):
    Contact.objects.bulk_create(Contact(full_name=f"C {i}", last_name=f"C {i}") for i in range(1000))

    with pytest.raises(PlanLimitReached) as refused:
        contact_create(actor=alice_on_free_plan, first_name="One", last_name="Too many")

    assert refused.value.code == "plan_limit_reached"
    assert "Your plan allows 1000 contacts and you have 1000." in refused.value.message
    assert "Billing page" in refused.value.message


def test_a_second_pipeline_and_a_second_lead_form_need_a_bigger_plan(alice_on_free_plan):
    lead_form_create(actor=alice_on_free_plan, name="Website")

    with pytest.raises(PlanLimitReached):
        lead_form_create(actor=alice_on_free_plan, name="Landing page")
    with pytest.raises(PlanLimitReached):
        pipeline_create(actor=alice_on_free_plan, name="Partners")


def test_unlimited_plans_do_not_count(tenant_b):
    with inside(tenant_b):
        bob = User.objects.get(email="bob@globex.example")
        contact = contact_create(actor=bob, first_name="No", last_name="Limit")
    assert contact.pk
