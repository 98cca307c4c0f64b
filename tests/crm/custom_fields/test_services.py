"""Shaping custom fields (crm.custom_fields.services): who may, what is checked, what the
audit log keeps, removal for 30 days and the purge after."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.errors import PermissionRefused
from accounts.models import AuditEntry
from crm.clients.models import Contact
from crm.clients.services import contact_create
from crm.custom_fields import services
from crm.custom_fields.models import CustomField
from crm.custom_fields.selectors import custom_fields_for, custom_fields_removed
from crm.custom_fields.services import (
    custom_field_create,
    custom_field_remove,
    custom_field_restore,
    custom_field_update,
    custom_fields_purge_expired,
    custom_fields_reorder,
    key_from_label,
)
from crm.errors import Conflict
from crm.models import WorkspaceSettings
from crm.trash import record_trash


def codes(error: ValidationError) -> dict[str, list[str]]:
    return {name: [problem.code for problem in problems] for name, problems in error.error_dict.items()}


def make(actor, label: str = "Tier", kind: str = "text", entity: str = "contact", **values) -> CustomField:
    return custom_field_create(actor=actor, entity=entity, label=label, kind=kind, **values)


@pytest.fixture
def tier(alice) -> CustomField:
    return make(alice, "Tier", "choice", choices=["Gold", "Silver", "Bronze"], filterable=True)


# --- who may -------------------------------------------------------------------------------


def test_only_the_settings_power_shapes_fields(alice, rex, tier):
    for attempt in (
        lambda: make(rex, "Mine"),
        lambda: custom_field_update(actor=rex, field=tier, label="Mine"),
        lambda: custom_fields_reorder(actor=rex, entity="contact", field_ids=[tier.pk]),
        lambda: custom_field_remove(actor=rex, field=tier),
        lambda: custom_field_restore(actor=rex, field=tier),
    ):
        with pytest.raises(PermissionRefused):
            attempt()
    assert CustomField.objects.get(pk=tier.pk).label == "Tier"


def test_every_change_is_in_the_audit_log(alice, tier):
    custom_field_update(actor=alice, field=tier, label="Level", required=True)
    custom_fields_reorder(actor=alice, entity="contact", field_ids=[tier.pk])
    custom_field_remove(actor=alice, field=tier)
    custom_field_restore(actor=alice, field=tier)

    entries = list(AuditEntry.objects.filter(action__startswith="custom_field.").order_by("id"))
    assert [entry.action for entry in entries] == [
        "custom_field.create",
        "custom_field.update",
        "custom_field.reorder",
        "custom_field.remove",
        "custom_field.restore",
    ]
    assert all(entry.actor_id == alice.pk for entry in entries)
    assert entries[0].changes["key"] == "tier" and entries[0].changes["kind"] == "choice"
    assert entries[1].changes["changed"] == {"label": ["Tier", "Level"], "required": [False, True]}


def test_a_change_that_changes_nothing_writes_nothing(alice, tier):
    custom_field_update(actor=alice, field=tier, label="Tier")

    assert not AuditEntry.objects.filter(action="custom_field.update").exists()


# --- keys ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("label", "key"),
    [
        ("Номер договора", "nomer_dogovora"),
        ("Дата подписания", "data_podpisaniya"),
        ("Объём закупок", "obem_zakupok"),
        ("Año de fundación", "ano_de_fundacion"),
        ("Straße", "strasse"),
        ("2nd phone", "f_2nd_phone"),
        ("  Lots   of   space  ", "lots_of_space"),
        ("رقم العقد", ""),
    ],
)
def test_keys_are_made_from_labels_in_any_language(label, key):
    assert key_from_label(label) == key


def test_a_label_with_no_latin_spelling_gets_a_numbered_key(alice):
    first = make(alice, "رقم العقد")
    second = make(alice, "تاريخ التوقيع")

    assert (first.key, second.key) == ("field_1", "field_2")


def test_a_key_made_from_a_label_never_clashes(alice, tier):
    assert make(alice, "Tier").key == "tier_2"
    assert make(alice, "Email", "email").key == "email_2"  # `email` is a contact's own field
    custom_field_remove(actor=alice, field=tier)
    assert make(alice, "TIER!").key == "tier_3"  # a removed field keeps its key for 30 days


def test_a_given_key_must_be_free_well_formed_and_not_built_in(alice, tier):
    for key, code in (
        ("tier", "taken"),
        ("email", "reserved"),
        ("custom_fields", "reserved"),
        ("Bad Key", "invalid"),
        ("double__underscore", "invalid"),
        ("trailing_", "invalid"),
        ("9lives", "invalid"),
        ("k" * 41, "max_length"),
    ):
        with pytest.raises(ValidationError) as error:
            make(alice, "Other", key=key)
        assert codes(error.value) == {"key": [code]}, key


def test_the_same_key_may_be_used_by_another_record_type(alice, tier):
    assert make(alice, "Tier", entity="deal").key == "tier"


# --- what is checked -----------------------------------------------------------------------


def test_every_problem_of_a_definition_is_reported_at_once(alice):
    with pytest.raises(ValidationError) as error:
        custom_field_create(
            actor=alice,
            entity="invoice",
            label="",
            kind="colour",
            help_text="x" * 300,
            label_translations={"fr": "Niveau"},
        )

    assert codes(error.value) == {
        "entity": ["invalid_choice"],
        "kind": ["invalid_choice"],
        "label": ["required"],
        "label_translations": ["invalid_language"],
        "help_text": ["max_length"],
    }


def test_choice_fields_need_choices_without_duplicates(alice):
    with pytest.raises(ValidationError) as empty:
        make(alice, "Tier", "choice", choices=[])
    with pytest.raises(ValidationError) as twice:
        make(alice, "Tier", "multi_choice", choices=["Gold", "gold"])

    assert codes(empty.value) == {"choices": ["required"]}
    assert codes(twice.value) == {"choices": ["duplicate"]}


def test_choices_take_labels_in_other_languages(alice):
    field = make(alice, "Tier", "choice", choices=[{"label": "Gold", "labels": {"ru": "Золото", "ar": "ذهبي"}}])

    assert field.choices == [{"value": "gold", "label": "Gold", "labels": {"ru": "Золото", "ar": "ذهبي"}}]


def test_only_text_like_fields_can_be_searchable(alice):
    with pytest.raises(ValidationError) as error:
        make(alice, "Score", "number", searchable=True)

    assert codes(error.value) == {"searchable": ["invalid"]}
    assert make(alice, "Notes", "long_text", searchable=True).searchable


def test_money_takes_the_workspace_currency_unless_given(alice):
    WorkspaceSettings.objects.update_or_create(pk=1, defaults={"base_currency": "RUB"})

    assert make(alice, "Budget", "money").currency == "RUB"
    assert make(alice, "Budget abroad", "money", currency="eur").currency == "EUR"
    assert make(alice, "Notes", "text", currency="EUR").currency == ""


def test_a_record_type_holds_at_most_a_hundred_fields(alice):
    for number in range(services.MAX_FIELDS_PER_ENTITY):
        make(alice, f"Field {number}")

    with pytest.raises(Conflict) as error:
        make(alice, "One too many")
    assert error.value.code == "too_many_fields"


# --- choices in use ------------------------------------------------------------------------


def test_renaming_a_choice_keeps_the_records_values(alice, tier):
    contact = contact_create(actor=alice, last_name="Gold", custom_fields={"tier": "gold"})

    custom_field_update(
        actor=alice,
        field=tier,
        choices=[{"value": "gold", "label": "Golden"}, {"label": "Silver"}, {"label": "Bronze"}],
    )

    field = CustomField.objects.get(pk=tier.pk)
    assert [choice["value"] for choice in field.choices] == ["gold", "silver", "bronze"]
    assert field.choice_label("gold") == "Golden"
    assert Contact.objects.get(pk=contact.pk).custom_fields == {"tier": "gold"}


def test_a_choice_records_still_hold_cannot_be_dropped(alice, tier):
    for number in range(2):
        contact_create(actor=alice, last_name=f"Silver {number}", custom_fields={"tier": "Silver"})
    trashed = contact_create(actor=alice, last_name="Bronze", custom_fields={"tier": "Bronze"})
    record_trash(actor=alice, record=trashed)  # a trashed record can come back with its value

    with pytest.raises(Conflict) as error:
        custom_field_update(actor=alice, field=tier, choices=[{"value": "gold", "label": "Gold"}])

    assert error.value.code == "choice_in_use"
    assert "“Silver” (2 records)" in error.value.message and "“Bronze” (1 record)" in error.value.message
    assert len(CustomField.objects.get(pk=tier.pk).choices) == 3


def test_a_choice_nobody_holds_can_be_dropped(alice, tier):
    contact_create(actor=alice, last_name="Gold", custom_fields={"tier": "gold"})

    custom_field_update(actor=alice, field=tier, choices=[{"value": "gold", "label": "Gold"}])

    assert [choice["value"] for choice in CustomField.objects.get(pk=tier.pk).choices] == ["gold"]


def test_multi_choice_usage_is_counted_inside_the_lists(alice):
    interests = make(alice, "Interests", "multi_choice", choices=["Golf", "Wine"])
    contact_create(actor=alice, last_name="Both", custom_fields={"interests": "Golf; Wine"})

    with pytest.raises(Conflict):
        custom_field_update(actor=alice, field=interests, choices=[{"value": "golf", "label": "Golf"}])


def test_only_choice_fields_have_choices(alice):
    notes = make(alice, "Notes")

    with pytest.raises(ValidationError) as error:
        custom_field_update(actor=alice, field=notes, choices=["A"])
    assert codes(error.value) == {"choices": ["invalid"]}


# --- order ---------------------------------------------------------------------------------


def test_new_fields_go_last_and_reorder_sets_the_order(alice, tier):
    signed = make(alice, "Signed on", "date")
    score = make(alice, "Score", "number")
    assert [field.key for field in custom_fields_for("contact")] == ["tier", "signed_on", "score"]

    custom_fields_reorder(actor=alice, entity="contact", field_ids=[score.pk, tier.pk, signed.pk])

    assert [field.key for field in custom_fields_for("contact")] == ["score", "tier", "signed_on"]


def test_a_reorder_must_name_every_live_field_once(alice, tier):
    signed = make(alice, "Signed on", "date")

    for ids in ([tier.pk], [tier.pk, signed.pk, tier.pk], [tier.pk, signed.pk, 999_999]):
        with pytest.raises(Conflict) as error:
            custom_fields_reorder(actor=alice, entity="contact", field_ids=ids)
        assert error.value.code == "stale_order"


# --- removal, restore, purge ---------------------------------------------------------------


def test_a_removed_field_disappears_but_its_values_stay(alice, tier):
    contact = contact_create(actor=alice, last_name="Ivanova", custom_fields={"tier": "gold"})

    custom_field_remove(actor=alice, field=tier)

    assert custom_fields_for("contact") == []
    assert list(custom_fields_removed("contact")) == [CustomField.all_objects.get(pk=tier.pk)]
    assert Contact.objects.get(pk=contact.pk).custom_fields == {"tier": "gold"}


def test_restoring_brings_the_field_back_last_with_its_values(alice, tier):
    contact = contact_create(actor=alice, last_name="Ivanova", custom_fields={"tier": "gold"})
    make(alice, "Signed on", "date")
    custom_field_remove(actor=alice, field=tier)

    restored = custom_field_restore(actor=alice, field=tier)

    assert restored.removed_at is None
    assert [field.key for field in custom_fields_for("contact")] == ["signed_on", "tier"]
    assert Contact.objects.get(pk=contact.pk).custom_fields == {"tier": "gold"}


def test_a_field_removed_more_than_30_days_ago_cannot_be_restored(alice, tier):
    custom_field_remove(actor=alice, field=tier)
    CustomField.all_objects.filter(pk=tier.pk).update(removed_at=timezone.now() - timedelta(days=31))

    with pytest.raises(Conflict) as error:
        custom_field_restore(actor=alice, field=tier)
    assert error.value.code == "field_expired"


def test_the_purge_deletes_expired_fields_and_their_values_in_batches(alice, tier, monkeypatch):
    monkeypatch.setattr(services, "PURGE_BATCH", 2)
    kept = make(alice, "Signed on", "date")
    recent = make(alice, "Recent", "text")
    contacts = [
        contact_create(
            actor=alice,
            last_name=f"Contact {number}",
            custom_fields={"tier": "gold", "signed_on": "2024-01-01", "recent": "x"},
        )
        for number in range(5)
    ]
    record_trash(actor=alice, record=contacts[0])  # trashed records lose the value too
    custom_field_remove(actor=alice, field=tier)
    custom_field_remove(actor=alice, field=recent)
    CustomField.all_objects.filter(pk=tier.pk).update(removed_at=timezone.now() - timedelta(days=31))

    with CaptureQueriesContext(connection) as captured:
        purged = custom_fields_purge_expired()

    assert purged == 1
    assert not CustomField.all_objects.filter(pk=tier.pk).exists()
    assert CustomField.all_objects.filter(pk=recent.pk).exists() and kept.pk
    for contact in Contact.all_objects.filter(pk__in=[contact.pk for contact in contacts]):
        assert contact.custom_fields == {"signed_on": "2024-01-01", "recent": "x"}
    updates = [query["sql"] for query in captured.captured_queries if query["sql"].startswith("UPDATE")]
    assert len(updates) == 4  # 2 + 2 + 1 rows, then one that finds none
    assert AuditEntry.objects.filter(action="custom_field.purge", actor=None).count() == 1
    # the key is free again
    assert make(alice, "Tier").key == "tier"


def test_index_builds_are_queued_only_when_an_index_may_change(alice, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as plain:
        notes = make(alice, "Notes")
    with django_capture_on_commit_callbacks() as filterable:
        score = make(alice, "Score", "number", filterable=True)
    with django_capture_on_commit_callbacks() as relabelled:
        custom_field_update(actor=alice, field=score, label="Rating")
    with django_capture_on_commit_callbacks() as searchable:
        custom_field_update(actor=alice, field=notes, searchable=True)
    with django_capture_on_commit_callbacks() as removed:
        custom_field_remove(actor=alice, field=score)
    with django_capture_on_commit_callbacks() as restored:
        custom_field_restore(actor=alice, field=score)

    assert [len(plain), len(filterable), len(relabelled), len(searchable), len(removed), len(restored)] == [
        0,
        1,
        0,
        1,
        1,
        1,
    ]
