"""Lead → contact → deal → won by period, and which sources pay.

lead  arrived  source            outcome
L1    Jan 05   google "crm"      contact + deal A, won (1000)
L2    Jan 12   google "audit"    contact + deal B, open
L3    Jan 20   yandex "crm"      not converted
L4    Jan 28   (none)            not converted
L5    Feb 03   yandex "audit"    contact + deal C, won (3000)
L6    Feb 14   newsletter        contact only
L7    Apr 02   google "crm"      outside the range, converted + won
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from crm.clients.models import Contact
from crm.deals.models import Deal
from crm.leads.models import Lead, LeadStatus
from crm.reports.selectors import lead_conversion, source_effectiveness
from tests.crm.deals.factories import deal_with_history

RANGE = {"date_from": date(2026, 1, 1), "date_to": date(2026, 3, 31)}


def at(month: int, day: int) -> datetime:
    return datetime(2026, month, day, 9, 0, tzinfo=UTC)


def lead(name: str, created: datetime, *, contact=None, deal=None, **source) -> Lead:
    converted = contact is not None
    record = Lead.objects.create(
        name=name,
        status=LeadStatus.CONVERTED if converted else LeadStatus.NEW,
        converted_at=created if converted else None,
        converted_contact=contact,
        converted_deal=deal,
        **source,
    )
    Lead.objects.filter(pk=record.pk).update(created_at=created)
    return record


@pytest.fixture
def leads(pipeline, stages):
    won, opened = stages[5], stages[1]
    person = Contact.objects.create(full_name="Pat Doe", last_name="Doe")
    deal_a = deal_with_history(pipeline=pipeline, path=[stages[0], won], created_at=at(1, 6), amount=Decimal(1000))
    deal_b = deal_with_history(pipeline=pipeline, path=[stages[0], opened], created_at=at(1, 13), amount=Decimal(700))
    deal_c = deal_with_history(pipeline=pipeline, path=[stages[0], won], created_at=at(2, 4), amount=Decimal(3000))
    deal_d = deal_with_history(pipeline=pipeline, path=[stages[0], won], created_at=at(4, 3), amount=Decimal(500))
    google = {"channel": "web_form", "utm_source": "google", "utm_medium": "cpc", "search_engine": "google"}
    yandex = {"channel": "web_form", "utm_source": "yandex", "utm_medium": "cpc", "search_engine": "yandex"}
    return [
        lead("L1", at(1, 5), contact=person, deal=deal_a, utm_term="crm", **google),
        lead("L2", at(1, 12), contact=person, deal=deal_b, utm_term="audit", **google),
        lead("L3", at(1, 20), utm_term="crm", **yandex),
        lead("L4", at(1, 28), channel="phone"),
        lead("L5", at(2, 3), contact=person, deal=deal_c, utm_term="audit", **yandex),
        lead("L6", at(2, 14), contact=person, channel="web_form", utm_source="newsletter", utm_medium="email"),
        lead("L7", at(4, 2), contact=person, deal=deal_d, utm_term="crm", **google),
    ]


def test_conversion_per_month(alice, leads):
    report = lead_conversion(actor=alice, period="month", **RANGE)

    assert [(row.period_start, row.leads, row.contacts, row.deals, row.won) for row in report.rows] == [
        (date(2026, 1, 1), 4, 2, 2, 1),
        (date(2026, 2, 1), 2, 2, 1, 1),
        (date(2026, 3, 1), 0, 0, 0, 0),
    ]
    assert [row.won_amount for row in report.rows] == [Decimal("1000.00"), Decimal("3000.00"), Decimal("0.00")]


def test_conversion_step_rates(alice, leads):
    january, february, march = lead_conversion(actor=alice, period="month", **RANGE).rows

    assert (january.contact_rate, january.deal_rate, january.won_rate, january.overall_rate) == (
        Decimal("50.0"),
        Decimal("100.0"),
        Decimal("50.0"),
        Decimal("25.0"),
    )
    assert (february.contact_rate, february.deal_rate, february.won_rate) == (
        Decimal("100.0"),
        Decimal("50.0"),
        Decimal("100.0"),
    )
    assert march.contact_rate is None


def test_conversion_total_over_the_range(alice, leads):
    total = lead_conversion(actor=alice, period="month", **RANGE).total

    assert (total.leads, total.contacts, total.deals, total.won) == (6, 4, 3, 2)
    assert (total.overall_rate, total.won_amount) == (Decimal("33.3"), Decimal("4000.00"))


def test_conversion_per_quarter_and_week(alice, leads):
    quarters = lead_conversion(actor=alice, period="quarter", **RANGE).rows
    weeks = lead_conversion(actor=alice, period="week", date_from=date(2026, 1, 1), date_to=date(2026, 1, 14)).rows

    assert [(row.period_start, row.leads) for row in quarters] == [(date(2026, 1, 1), 6)]
    # Weeks start on Monday: Dec 29, Jan 5 (L1), Jan 12 (L2).
    assert [(row.period_start, row.leads) for row in weeks] == [
        (date(2025, 12, 29), 0),
        (date(2026, 1, 5), 1),
        (date(2026, 1, 12), 1),
    ]


def test_trashed_deal_no_longer_counts_as_a_deal(alice, leads):
    Deal.objects.filter(pk=leads[1].converted_deal_id).update(deleted_at=timezone.now())

    january = lead_conversion(actor=alice, period="month", **RANGE).rows[0]

    assert (january.contacts, january.deals) == (2, 1)


def test_unknown_period_is_a_field_error(alice):
    with pytest.raises(ValidationError) as caught:
        lead_conversion(actor=alice, period="fortnight", **RANGE)

    assert caught.value.error_dict["period"][0].code == "invalid_choice"


def test_sources_ranked_by_won_amount(alice, leads):
    report = source_effectiveness(actor=alice, group_by="utm_source", **RANGE)

    assert [(r.key, r.leads, r.converted, r.deals, r.won, r.won_amount) for r in report.rows] == [
        ("yandex", 2, 1, 1, 1, Decimal("3000.00")),
        ("google", 2, 2, 2, 1, Decimal("1000.00")),
        ("newsletter", 1, 1, 0, 0, Decimal("0.00")),
        ("", 1, 0, 0, 0, Decimal("0.00")),
    ]
    assert report.rows[1].conversion_rate == Decimal("100.0")
    assert report.rows[1].win_rate == Decimal("50.0")


def test_keywords_that_pay(alice, leads):
    report = source_effectiveness(actor=alice, group_by="utm_term", **RANGE)

    assert [(r.key, r.leads, r.won_amount) for r in report.rows] == [
        ("audit", 2, Decimal("3000.00")),
        ("crm", 2, Decimal("1000.00")),
        ("", 2, Decimal("0.00")),
    ]


def test_grouped_by_channel_and_search_engine(alice, leads):
    channels = source_effectiveness(actor=alice, group_by="channel", **RANGE)
    engines = source_effectiveness(actor=alice, group_by="search_engine", **RANGE)

    assert {row.key: row.leads for row in channels.rows} == {"web_form": 5, "phone": 1}
    assert {row.key: row.won for row in engines.rows} == {"google": 1, "yandex": 1, "": 0}


def test_unknown_grouping_is_a_field_error(alice):
    with pytest.raises(ValidationError) as caught:
        source_effectiveness(actor=alice, group_by="owner", **RANGE)

    assert caught.value.error_dict["group_by"][0].code == "invalid_choice"


def test_switched_off_account_sees_zeros(switched_off, leads):
    conversion = lead_conversion(actor=switched_off, period="month", **RANGE)
    sources = source_effectiveness(actor=switched_off, **RANGE)

    assert conversion.total.leads == 0
    assert all(row.leads == 0 for row in conversion.rows)
    assert sources.rows == []


def test_reports_are_a_fixed_number_of_queries(alice, leads, django_assert_max_num_queries):
    with django_assert_max_num_queries(4):
        lead_conversion(actor=alice, period="week", **RANGE)
    with django_assert_max_num_queries(3):
        source_effectiveness(actor=alice, **RANGE)


def test_other_workspace_sees_none_of_these_leads(leads, tenant_b):
    from accounts.models import User
    from tests.conftest import inside

    with inside(tenant_b):
        report = lead_conversion(actor=User.objects.get(), period="month", **RANGE)

    assert report.total.leads == 0
