"""Client cards (contact, company, lead, deal): details, editing in place, timeline,
quick actions; what each person may see and do; another workspace's record is a 404."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts import roles
from accounts.models import Role, SeatType
from accounts.services import user_create
from crm.activities.models import Activity, ActivityKind, Task
from crm.activities.services import note_add
from crm.clients.models import Contact
from crm.clients.services import company_create, contact_create
from crm.deals.services import deal_create
from crm.leads.services import lead_create
from tests.conftest import PASSWORD, inside
from tests.web.conftest import ACME_HOST, sign_in

KINDS = ["contacts", "companies", "leads", "deals"]


def _records(owner) -> dict:
    company = company_create(actor=owner, name="Initech", owner=owner)
    contact = contact_create(actor=owner, first_name="Peter", last_name="Gibbons", company=company, owner=owner)
    lead = lead_create(actor=owner, name="Milton Waddams", email="milton@initech.example", owner=owner)
    deal = deal_create(actor=owner, title="TPS reports", owner=owner, company=company, contact=contact)
    return {"contacts": contact, "companies": company, "leads": lead, "deals": deal}


@pytest.fixture
def reader(acme):
    from django.test import Client

    user_create(
        email="rita@acme.example",
        full_name="Rita Reader",
        password=PASSWORD,
        role=Role.objects.get(code=roles.READ_ONLY),
        seat_type=SeatType.CONCURRENT,
    )
    return sign_in(Client(HTTP_HOST=ACME_HOST), "rita@acme.example")


@pytest.mark.parametrize("kind", KINDS)
def test_each_card_renders_within_a_query_bound(alice, web_alice, kind, django_assert_max_num_queries):
    record = _records(alice)[kind]
    for number in range(30):
        note_add(actor=alice, body=f"Note {number}", **{kind.rstrip("s").replace("companie", "company"): record})
    with django_assert_max_num_queries(24):
        response = web_alice.get(f"/{kind}/{record.pk}/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Note 29" in body and "Older entries" in body
    assert "Note 0<" not in body  # older entries come with the next page


@pytest.mark.parametrize("kind", KINDS)
def test_another_workspaces_record_is_not_found(alice, tenant_a, web_bob, kind):
    with inside(tenant_a):
        record = _records(alice)[kind]
    assert web_bob.get(f"/{kind}/{record.pk}/").status_code == 404
    assert web_bob.post(f"/{kind}/{record.pk}/actions/note/", {"note-body": "x"}).status_code == 404
    assert (
        web_bob.post(
            f"/{kind}/{record.pk}/fields/{'about' if kind in ('contacts', 'companies') else kind.rstrip('s')}/"
        ).status_code
        == 404
    )


@pytest.mark.parametrize("kind", KINDS)
def test_a_rep_cannot_open_a_colleagues_card(alice, rex, web_rex, kind):
    record = _records(alice)[kind]
    assert web_rex.get(f"/{kind}/{record.pk}/").status_code == 404


def test_list_rows_link_to_the_cards(alice, web_alice):
    records = _records(alice)
    for kind, record in records.items():
        assert f'href="/{kind}/{record.pk}/"' in web_alice.get(f"/{kind}/").content.decode()


def test_editing_a_group_saves_through_the_service(alice, web_alice):
    contact = _records(alice)["contacts"]
    form = web_alice.get(f"/contacts/{contact.pk}/fields/reach/?edit=1", HTTP_HX_REQUEST="true").content.decode()
    assert 'name="reach-emails"' in form
    response = web_alice.post(
        f"/contacts/{contact.pk}/fields/reach/",
        {"reach-emails": "Peter@Initech.example, p.g@initech.example", "reach-phones": ""},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert "peter@initech.example" in response.content.decode()  # the group shows the saved, cleaned value
    contact.refresh_from_db()
    assert contact.emails == ["peter@initech.example", "p.g@initech.example"]


def test_bad_input_shows_field_errors_and_writes_nothing(alice, web_alice):
    contact = _records(alice)["contacts"]
    response = web_alice.post(
        f"/contacts/{contact.pk}/fields/reach/",
        {"reach-emails": "peter@initech.example\nnot-an-email", "reach-phones": ""},
        HTTP_HX_REQUEST="true",
    )
    body = response.content.decode()
    assert response.status_code == 200 and "is not a valid email address" in body and 'class="error"' in body
    contact.refresh_from_db()
    assert contact.emails == []


def test_clearing_a_contacts_name_is_refused_on_the_field(alice, web_alice):
    contact = _records(alice)["contacts"]
    body = web_alice.post(
        f"/contacts/{contact.pk}/fields/person/",
        {"person-first_name": "", "person-last_name": "", "person-job_title": ""},
    ).content.decode()
    assert "Enter the contact&#x27;s name." in body
    assert Contact.objects.get(pk=contact.pk).full_name == "Peter Gibbons"


def test_editing_works_without_javascript(alice, web_alice):
    deal = _records(alice)["deals"]
    page = web_alice.get(f"/deals/{deal.pk}/fields/deal/?edit=1").content.decode()
    assert 'name="deal-title"' in page and "<html" in page
    response = web_alice.post(
        f"/deals/{deal.pk}/fields/deal/",
        {"deal-title": "TPS reports v2", "deal-amount": "1500", "deal-currency": "USD", "deal-owner": alice.pk},
    )
    assert response.status_code == 302 and response["Location"] == f"/deals/{deal.pk}/"
    deal.refresh_from_db()
    assert (deal.title, deal.amount, deal.currency) == ("TPS reports v2", 1500, "USD")


def test_a_read_only_role_sees_the_card_without_edit_buttons_and_cannot_save(alice, reader):
    contact = _records(alice)["contacts"]
    body = reader.get(f"/contacts/{contact.pk}/").content.decode()
    assert "Peter Gibbons" in body
    assert "fields/person/?edit=1" not in body
    assert "Log a call" not in body  # no right to create activities
    reader.post(f"/contacts/{contact.pk}/fields/person/", {"person-first_name": "Hacked", "person-last_name": "X"})
    assert Contact.objects.get(pk=contact.pk).first_name == "Peter"


def test_quick_actions_log_a_call_add_a_note_and_schedule_a_task(alice, web_alice):
    lead = _records(alice)["leads"]
    call = web_alice.post(
        f"/leads/{lead.pk}/actions/call/",
        {"call-direction": "outbound", "call-minutes": "5", "call-outcome": "Voicemail", "call-body": "Call back"},
        HTTP_HX_REQUEST="true",
    )
    assert "Call logged." in call.content.decode() and "Voicemail" in call.content.decode()
    web_alice.post(f"/leads/{lead.pk}/actions/note/", {"note-body": "Wants a demo"}, HTTP_HX_REQUEST="true")
    due = (timezone.localtime() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    task = web_alice.post(
        f"/leads/{lead.pk}/actions/task/",
        {"task-title": "Send the demo link", "task-kind": "email", "task-due_at": due, "task-owner": alice.pk},
    )
    assert task.status_code == 302
    entries = Activity.objects.filter(lead=lead).order_by("id")
    assert [(entry.kind, entry.duration_seconds) for entry in entries] == [
        (ActivityKind.CALL, 300),
        (ActivityKind.NOTE, None),
    ]
    assert Task.objects.filter(lead=lead, title="Send the demo link", owner=alice).exists()
    assert "Send the demo link" in web_alice.get(f"/leads/{lead.pk}/").content.decode()


def test_a_quick_action_with_bad_input_explains_and_writes_nothing(alice, web_alice):
    lead = _records(alice)["leads"]
    note = web_alice.post(f"/leads/{lead.pk}/actions/note/", {"note-body": "  "}, HTTP_HX_REQUEST="true")
    task = web_alice.post(
        f"/leads/{lead.pk}/actions/task/", {"task-title": "x", "task-kind": "call", "task-due_at": "soon"}
    )
    assert "Write the note." in note.content.decode()
    assert task.status_code == 200 and 'class="error"' in task.content.decode()
    assert not Activity.objects.filter(lead=lead).exists() and not Task.objects.filter(title="x").exists()


def test_the_older_button_continues_the_timeline(alice, web_alice):
    deal = _records(alice)["deals"]
    for number in range(25):
        note_add(actor=alice, body=f"Entry {number:02d}", deal=deal)
    first = web_alice.get(f"/deals/{deal.pk}/").content.decode()
    link = first.split('hx-get="/deals/')[-1].split('"')[0]
    older = web_alice.get(f"/deals/{link}", HTTP_HX_REQUEST="true").content.decode()
    # 25 notes + the deal's first stage... the oldest notes are on the second page only.
    assert "Entry 00" in older and "Entry 00" not in first
    assert "Entry 24" in first and "Entry 24" not in older


def test_the_card_in_arabic_is_right_to_left_and_translated(alice, web_alice):
    deal = _records(alice)["deals"]
    web_alice.post("/language/", {"language": "ar", "next": "/"})
    body = web_alice.get(f"/deals/{deal.pk}/").content.decode()
    assert 'dir="rtl"' in body and "إرسال عرض" in body and "السجل الزمني" in body
    web_alice.post("/language/", {"language": "en", "next": "/"})


def test_a_read_only_role_is_not_offered_send_proposal(alice, reader):
    deal = _records(alice)["deals"]
    body = reader.get(f"/deals/{deal.pk}/").content.decode()
    assert "TPS reports" in body and "Send proposal" not in body and "Mark as won" not in body
