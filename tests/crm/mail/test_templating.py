"""Email templates render only whitelisted values, and say clearly what is wrong."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from crm.mail.templating import SAMPLE, render, template_check, template_context


def _errors(**parts) -> dict:
    with pytest.raises(ValidationError) as refused:
        template_check(subject=parts.get("subject", ""), body=parts.get("body", "x"))
    return refused.value.message_dict


def test_variables_are_rendered():
    rendered = render(
        subject="Offer for {{ company.name }}",
        body=(
            "Dear {{ contact.first_name }},\n{{ deal.title }}: {{ deal.amount }} {{ deal.currency }}\n{{ sender.name }}"
        ),
        context={**SAMPLE, "sender": {"name": "Alice Adams", "first_name": "Alice", "email": "a@x"}},
    )

    assert rendered.subject == "Offer for Nordic Tools AB"
    assert rendered.body == "Dear Anna,\n200 cordless drills: 12,400.00 EUR\nAlice Adams"


def test_an_unknown_variable_is_a_field_error_naming_it():
    errors = _errors(body="Hi {{ contact.nickname }}")

    assert "contact.nickname" in errors["body"][0]
    assert "contact.first_name" in errors["body"][0]


@pytest.mark.parametrize(
    "body",
    [
        "{{ contact.owner.password }}",
        "{{ contact.first_name.upper }}",
        "{{ contact.items }}",
        "{{ settings.SECRET_KEY }}",
        "{{ contact }}",
    ],
)
def test_nothing_outside_the_whitelist_can_be_reached(body):
    assert "body" in _errors(body=body)


@pytest.mark.parametrize(
    "body",
    [
        "{% load static %}",
        "{% include 'base.html' %}",
        "{% debug %}",
        "{% url 'home' %}",
        "{% for x in y %}{% endfor %}",
    ],
)
def test_tags_that_reach_outside_are_unknown(body):
    assert "error" in _errors(body=body)["body"][0].lower()


def test_a_syntax_error_names_the_problem():
    errors = _errors(subject="{% if contact.first_name %}unclosed")

    assert "subject" in errors
    assert "endif" in errors["subject"][0] or "if" in errors["subject"][0]


def test_an_empty_template_is_refused():
    assert "body" in _errors(subject="", body="   ")


def test_missing_records_render_empty_not_an_error():
    rendered = render(subject="Hi {{ contact.first_name }}", body="{{ deal.title|default:'our offer' }}", context={})

    assert rendered.subject == "Hi"
    assert rendered.body == "our offer"


def test_dates_and_numbers_follow_the_templates_language():
    deal = SimpleNamespace(title="T", amount=Decimal("1234.5"), currency="RUB", contact=None, company=None)
    with translation.override("ru"):
        context = template_context(deal=deal)

    rendered = render(subject="", body="{{ deal.amount }}|{% now 'F' %}", context=context, language="ru")

    amount, month = rendered.body.split("|")
    assert amount.replace("\xa0", " ") == "1 234,50"
    assert month.isalpha() and not month.isascii()  # the month's name in Russian
