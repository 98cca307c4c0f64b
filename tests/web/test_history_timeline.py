"""Field changes on the client cards' timelines, in a signed-in browser (Django test client)."""

from __future__ import annotations

import html
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from crm.activities.services import note_add
from crm.clients.services import contact_create, contact_update
from crm.custom_fields.services import custom_field_create
from crm.history.models import FieldChange
from crm.leads.services import lead_create, lead_set_status
from tests.conftest import BOB_EMAIL, inside


def visible_text(page: str) -> str:
    """What a sighted reader sees: tags and visually hidden helper texts dropped, spaces collapsed."""
    page = re.sub(r'<span class="visually-hidden">.*?</span>', "", page, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split()).replace(" :", ":")


def timeline_part(page: str) -> str:
    return page[page.index('id="card-timeline"') :]


@pytest.fixture
def peter(alice):
    return contact_create(actor=alice, first_name="Peter", last_name="Gibbons", job_title="CEO", owner=alice)


def test_editing_the_job_title_on_the_card_shows_the_change_on_its_timeline(alice, web_alice, peter):
    # when Alice changes the job title in the card's "person" group
    response = web_alice.post(
        f"/contacts/{peter.pk}/fields/person/",
        {"person-first_name": "Peter", "person-last_name": "Gibbons", "person-job_title": "CFO"},
    )
    assert response.status_code == 302

    # then the card's timeline says what changed, who did it and how
    text = visible_text(timeline_part(web_alice.get(f"/contacts/{peter.pk}/").content.decode()))
    assert "Job title: CEO → CFO" in text
    assert "Alice Adams changed 1 field · via the web" in text
    (row,) = FieldChange.objects.filter(record_type="contact", record_id=peter.pk)
    assert (row.channel, row.actor_id) == ("web", alice.pk)


def test_an_htmx_save_records_the_web_channel_too(alice, web_alice, peter):
    web_alice.post(
        f"/contacts/{peter.pk}/fields/person/",
        {"person-first_name": "Pete", "person-last_name": "Gibbons", "person-job_title": "CFO"},
        HTTP_HX_REQUEST="true",
    )

    assert set(FieldChange.objects.filter(record_id=peter.pk).values_list("field", "channel")) == {
        ("first_name", "web"),
        ("job_title", "web"),
    }


def test_one_save_of_several_fields_is_one_entry(alice, web_alice, peter):
    contact_update(actor=alice, contact=peter, job_title="CFO", city="Austin", tags=["VIP"])

    text = visible_text(timeline_part(web_alice.get(f"/contacts/{peter.pk}/").content.decode()))

    assert "Alice Adams changed 3 fields" in text
    assert "City: (empty) → Austin" in text
    assert "Tags: (empty) → VIP" in text


def test_in_russian_the_change_reads_in_russian(alice, web_alice, peter):
    contact_update(actor=alice, contact=peter, job_title="CFO")
    web_alice.post("/language/", {"language": "ru", "next": "/"})

    text = visible_text(timeline_part(web_alice.get(f"/contacts/{peter.pk}/").content.decode()))

    assert "Должность: CEO → CFO" in text
    assert "Alice Adams изменил(а) 1 поле · системой" in text  # noqa: RUF001 - Russian


def test_in_arabic_the_arrow_points_the_way_the_line_reads(alice, web_alice, peter):
    contact_update(actor=alice, contact=peter, job_title="CFO")
    web_alice.post("/language/", {"language": "ar", "next": "/"})

    page = web_alice.get(f"/contacts/{peter.pk}/").content.decode()

    assert 'dir="rtl"' in page
    assert "المسمى الوظيفي: CEO ← CFO" in visible_text(timeline_part(page))


def test_the_filter_shows_everything_activities_or_changes(alice, web_alice, peter):
    contact_update(actor=alice, contact=peter, job_title="CFO")
    note_add(actor=alice, body="Called about the renewal", contact=peter)

    everything = web_alice.get(f"/contacts/{peter.pk}/").content.decode()
    changes = web_alice.get(f"/contacts/{peter.pk}/?show=changes").content.decode()
    activities = web_alice.get(f"/contacts/{peter.pk}/?show=activities").content.decode()

    assert "CEO → CFO" in visible_text(everything) and "Called about the renewal" in everything
    assert "CEO → CFO" in visible_text(changes) and "Called about the renewal" not in changes
    assert "CEO → CFO" not in visible_text(activities) and "Called about the renewal" in activities
    assert f'href="/contacts/{peter.pk}/?show=changes#timeline-title" ' in changes
    assert re.search(r'\?show=changes"[^>]*aria-current="true"', changes)


def test_with_htmx_the_filter_redraws_only_the_timeline(alice, web_alice, peter):
    contact_update(actor=alice, contact=peter, job_title="CFO")

    part = web_alice.get(f"/contacts/{peter.pk}/timeline/?show=changes", HTTP_HX_REQUEST="true").content.decode()

    assert part.startswith('<div id="card-timeline">')
    assert "CEO → CFO" in visible_text(part)
    assert "<html" not in part


def test_the_older_button_keeps_the_filter(alice, web_alice, peter):
    previous = "CEO"
    for number in range(25):
        contact_update(actor=alice, contact=peter, job_title=f"Title {number:02d}")
        previous = f"Title {number:02d}"
    assert previous == "Title 24"
    first = web_alice.get(f"/contacts/{peter.pk}/?show=changes").content.decode()
    link = html.unescape(re.search(r'hx-get="(/contacts/\d+/timeline/\?before=[^"]+)"', first).group(1))

    older = web_alice.get(link, HTTP_HX_REQUEST="true").content.decode()

    assert "show=changes" in link
    assert "CEO → Title 00" in visible_text(older)
    assert "CEO → Title 00" not in visible_text(first)


def test_each_filter_has_its_own_empty_state(alice, web_alice, peter):
    changes = web_alice.get(f"/contacts/{peter.pk}/?show=changes").content.decode()
    activities = web_alice.get(f"/contacts/{peter.pk}/?show=activities").content.decode()
    everything = web_alice.get(f"/contacts/{peter.pk}/").content.decode()

    assert "No changes to this record's fields yet." in html.unescape(changes)
    assert "No activities yet." in activities
    assert "changes to the fields will appear here" in everything


def test_an_unknown_filter_shows_everything(alice, web_alice, peter):
    contact_update(actor=alice, contact=peter, job_title="CFO")

    page = web_alice.get(f"/contacts/{peter.pk}/?show=<script>").content.decode()

    assert "CEO → CFO" in visible_text(page)
    assert "<script>" not in page.split('id="card-timeline"')[1]


def test_a_long_note_change_is_shortened_with_the_whole_text_one_click_away(alice, web_alice, peter):
    story = "A long story about this customer and the renewal. " * 6
    contact_update(actor=alice, contact=peter, notes=story)

    part = timeline_part(web_alice.get(f"/contacts/{peter.pk}/").content.decode())

    assert '<details class="change-new change-long">' in part
    assert story.strip() in html.unescape(part)


def test_a_leads_card_shows_its_changes(alice, web_alice):
    lead = lead_create(actor=alice, name="Ann Lead", phone="+14155550100", owner=alice)

    lead_set_status(actor=alice, lead=lead, status="in_progress")

    text = visible_text(timeline_part(web_alice.get(f"/leads/{lead.pk}/").content.decode()))
    assert "Status: New → In progress" in text


def test_another_workspaces_timeline_is_missing(alice, web_alice, tenant_b):
    with inside(tenant_b):
        bob = User.objects.select_related("role").get(email=BOB_EMAIL)
        theirs = contact_create(actor=bob, first_name="Hank", last_name="Scorpio")
        contact_update(actor=bob, contact=theirs, job_title="Villain")

    assert web_alice.get(f"/contacts/{theirs.pk}/timeline/?show=changes", HTTP_HX_REQUEST="true").status_code == 404
    assert web_alice.get(f"/contacts/{theirs.pk}/?show=changes").status_code == 404


def test_a_colleague_who_cannot_see_the_record_gets_404(alice, web_rex, peter):
    contact_update(actor=alice, contact=peter, job_title="CFO")

    response = web_rex.get(f"/contacts/{peter.pk}/timeline/?show=changes", HTTP_HX_REQUEST="true")

    assert response.status_code == 404


def _card_queries(client, path: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(path).status_code == 200
    return len(captured)


@pytest.mark.parametrize("show", ["all", "changes"])
def test_the_card_makes_as_many_queries_with_many_changes_as_with_one(
    alice, web_alice, peter, show, django_assert_max_num_queries
):
    custom_field_create(actor=alice, entity="contact", label="Tier", kind="text", key="tier")
    path = f"/contacts/{peter.pk}/?show={show}"

    def more(count: int, start: int = 0) -> None:
        for number in range(start, start + count):
            contact_update(
                actor=alice,
                contact=peter,
                job_title=f"Title {number}",
                custom_fields={"tier": f"tier {number}"},
                phones=[f"+1415555{number:04d}"],
                tags=[f"tag {number}"],
            )
            note_add(actor=alice, body=f"Note {number}", contact=peter)

    more(1)
    baseline = _card_queries(web_alice, path)

    more(60, start=1)

    with django_assert_max_num_queries(baseline + 1, info="one more: the rest of a save cut by the page"):
        _card_queries(web_alice, path)
