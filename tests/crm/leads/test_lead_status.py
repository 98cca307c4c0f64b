"""lead_update, lead_set_status and lead_disqualify."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from crm.activities.models import Activity, ActivityKind, Task, TaskStatus
from crm.errors import Conflict
from crm.leads.models import LeadStatus
from crm.leads.services import lead_convert, lead_create, lead_disqualify, lead_set_status, lead_update
from crm.notifications.models import Notification


@pytest.fixture
def lead(alice, rita):
    return lead_create(actor=alice, name="Ivan Petrov", phone="+12125550123", owner=rita)


def test_status_moves_between_new_in_progress_and_qualified(rita, lead):
    lead_set_status(actor=rita, lead=lead, status=LeadStatus.IN_PROGRESS)
    lead = lead_set_status(actor=rita, lead=lead, status=LeadStatus.QUALIFIED)

    lead.refresh_from_db()
    assert lead.status == LeadStatus.QUALIFIED


@pytest.mark.parametrize("status", [LeadStatus.DISQUALIFIED, LeadStatus.CONVERTED, "won"])
def test_other_statuses_cannot_be_set_by_hand(rita, lead, status):
    with pytest.raises(ValidationError) as caught:
        lead_set_status(actor=rita, lead=lead, status=status)

    assert caught.value.error_dict["status"][0].code == "invalid_choice"


def test_disqualifying_needs_a_reason(rita, lead):
    with pytest.raises(ValidationError) as caught:
        lead_disqualify(actor=rita, lead=lead, reason="   ")

    assert caught.value.error_dict["reason"][0].code == "required"
    lead.refresh_from_db()
    assert lead.status == LeadStatus.NEW


def test_disqualified_lead_keeps_its_reason_and_stops_the_follow_up(rita, lead):
    lead_disqualify(actor=rita, lead=lead, reason="Looking for a job, not a service")

    lead.refresh_from_db()
    assert (lead.status, lead.disqualified_reason) == (LeadStatus.DISQUALIFIED, "Looking for a job, not a service")
    assert Task.objects.get(lead=lead).status == TaskStatus.CANCELLED
    assert Activity.objects.get(lead=lead, kind=ActivityKind.NOTE).body == "Looking for a job, not a service"


def test_disqualified_lead_can_be_reopened(rita, lead):
    lead_disqualify(actor=rita, lead=lead, reason="No budget")

    lead = lead_set_status(actor=rita, lead=lead, status=LeadStatus.IN_PROGRESS)

    assert (lead.status, lead.disqualified_reason) == (LeadStatus.IN_PROGRESS, "")


def test_converted_lead_refuses_status_changes_and_edits(rita, lead):
    lead_convert(actor=rita, lead=lead)

    with pytest.raises(Conflict) as status_change:
        lead_set_status(actor=rita, lead=lead, status=LeadStatus.NEW)
    with pytest.raises(Conflict) as disqualify:
        lead_disqualify(actor=rita, lead=lead, reason="Changed my mind")
    with pytest.raises(Conflict) as edit:
        lead_update(actor=rita, lead=lead, name="Other")

    assert {status_change.value.code, disqualify.value.code, edit.value.code} == {"already_converted"}


def test_update_changes_only_the_given_fields(rita, lead):
    lead = lead_update(actor=rita, lead=lead, email="IVAN@example.com", company_name="Romashka")

    lead.refresh_from_db()
    assert (lead.name, lead.phone, lead.email, lead.company_name) == (
        "Ivan Petrov",
        "+12125550123",
        "ivan@example.com",
        "Romashka",
    )
    assert lead.updated_by == rita


def test_update_reports_field_errors(rita, lead):
    with pytest.raises(ValidationError) as caught:
        lead_update(actor=rita, lead=lead, name="", phone="x")

    assert set(caught.value.error_dict) == {"name", "phone"}


def test_new_owner_gets_the_follow_up_call_and_a_notification(alice, rita, sam, lead):
    lead_update(actor=alice, lead=lead, owner=sam)

    assert Task.objects.get(lead=lead).owner == sam
    assert Notification.objects.filter(recipient=sam, kind="lead_assigned").exists()


def test_owning_an_unowned_lead_takes_the_call_from_the_stand_in_admin(alice, rita):
    lead = lead_create(actor=None, name="Nobody's")
    assert Task.objects.get(lead=lead).owner == alice

    lead_update(actor=alice, lead=lead, owner=rita)

    assert Task.objects.get(lead=lead).owner == rita
