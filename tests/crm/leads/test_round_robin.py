"""Round-robin assignment of web leads, also under concurrent submissions."""

from __future__ import annotations

import itertools
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from accounts.models import User
from crm.leads.models import Lead, LeadAssignment, LeadForm
from crm.leads.services import lead_capture_from_form, lead_form_create, lead_form_update
from tenants.models import Tenant
from tenants.threads import bound_to_current_tenant
from tests.conftest import ALICE_EMAIL, inside
from tests.crm.leads.conftest import make_rep


def submit(form: LeadForm, n: int, address: str = "198.51.100.1") -> Lead:
    lead = lead_capture_from_form(
        form=form, data={"name": f"Visitor {n}", "phone": "+12125550100"}, remote_addr=address, origin=""
    )
    assert lead is not None
    return lead


@pytest.fixture
def carl(acme) -> User:
    return make_rep("carl@acme.example", "Carl Closer")


@pytest.fixture
def rotating_form(alice, rita, sam, carl):
    return lead_form_create(
        actor=alice, name="Rotation", assignment=LeadAssignment.ROUND_ROBIN, round_robin_users=[rita, sam, carl]
    )


def test_leads_go_to_each_person_in_turn(rotating_form, rita, sam, carl):
    owners = [submit(rotating_form, n).owner for n in range(4)]

    assert owners == [rita, sam, carl, rita]


def test_switched_off_person_is_skipped(rotating_form, rita, sam, carl):
    sam.is_active = False
    sam.save(update_fields=["is_active"])

    owners = [submit(rotating_form, n).owner for n in range(3)]

    assert owners == [rita, carl, rita]


def test_rotation_continues_after_the_last_one_even_if_they_left_the_rotation(alice, rotating_form, rita, sam, carl):
    submit(rotating_form, 1)  # rita
    submit(rotating_form, 2)  # sam
    lead_form_update(actor=alice, form=rotating_form, round_robin_users=[rita, carl])

    assert submit(rotating_form, 3).owner == carl


def test_rotation_without_active_people_falls_back_to_the_forms_owner(alice, rotating_form, rita, sam, carl):
    lead_form_update(actor=alice, form=rotating_form, owner=alice)
    for person in (rita, sam, carl):
        person.is_active = False
        person.save(update_fields=["is_active"])

    assert submit(rotating_form, 1).owner == alice


@pytest.mark.slow
def test_concurrent_submissions_still_rotate_evenly(committed_db, settings):
    """Eight visitors posting at the same instant: the form's row lock makes each one
    continue after the previous, so two people get exactly four leads each."""
    settings.LEAD_FORM_RATE_PER_IP = (1000, 60)
    settings.LEAD_FORM_RATE_PER_FORM = (1000, 3600)
    with inside(Tenant.objects.get(slug="acme")):
        alice = User.objects.get(email=ALICE_EMAIL)
        first = make_rep("rr-first@acme.example", "RR First")
        second = make_rep("rr-second@acme.example", "RR Second")
        form = lead_form_create(
            actor=alice, name="Concurrent", assignment=LeadAssignment.ROUND_ROBIN, round_robin_users=[first, second]
        )
        try:
            start = threading.Barrier(8)

            def visitor(n: int) -> int:
                start.wait()
                return submit(form, n, address=f"203.0.113.{n}").owner_id

            work = bound_to_current_tenant(visitor)
            with ThreadPoolExecutor(max_workers=8) as pool:
                owners = list(pool.map(work, range(8)))

            assert Counter(owners) == {first.pk: 4, second.pk: 4}
            sequence = list(Lead.objects.filter(form=form).order_by("id").values_list("owner_id", flat=True))
            assert all(a != b for a, b in itertools.pairwise(sequence))
        finally:
            Lead.all_objects.filter(form=form).delete()
            form.delete()
            User.objects.filter(pk__in=[first.pk, second.pk]).delete()
