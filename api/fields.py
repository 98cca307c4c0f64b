"""Serializer fields that turn ids into records the acting user may see.

An id the user cannot see is a field error that reads like a missing one, never a 404
for the whole request and never a hint that it exists elsewhere.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.selectors import member_get, team_get
from crm.errors import RecordNotFound

MAX_ID = 2**63 - 1


@extend_schema_field(OpenApiTypes.INT)
class VisibleRecordField(serializers.Field):
    """An id resolved by `getter(actor=..., pk)`; the record must be visible to the actor."""

    default_error_messages = {
        "invalid": _("Give the record's id (a whole number)."),
        "does_not_exist": _("No record with this id exists, or you cannot see it."),
    }

    def __init__(self, getter: Callable[..., Any], **kwargs: Any):
        self.getter = getter
        kwargs.setdefault("allow_null", True)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, bool) or not isinstance(data, int | str):
            self.fail("invalid")
        try:
            pk = int(data)
        except ValueError:
            self.fail("invalid")
        if not 1 <= pk <= MAX_ID:
            self.fail("does_not_exist")
        try:
            return self.getter(self.context["request"].user, pk)
        except RecordNotFound:
            self.fail("does_not_exist")

    def to_representation(self, value: Any) -> Any:
        return value.pk


@extend_schema_field(OpenApiTypes.INT)
class MemberField(VisibleRecordField):
    """A person of this workspace (owner, assignee) by id."""

    default_error_messages = {
        "invalid": _("Give the person's id (a whole number)."),
        "does_not_exist": _("No active person with this id works in this workspace."),
    }

    def __init__(self, **kwargs: Any):
        super().__init__(getter=_member, **kwargs)


@extend_schema_field(OpenApiTypes.INT)
class TeamField(VisibleRecordField):
    default_error_messages = {
        "invalid": _("Give the team's id (a whole number)."),
        "does_not_exist": _("No team with this id exists."),
    }

    def __init__(self, **kwargs: Any):
        super().__init__(getter=_team, **kwargs)


def _member(_actor: Any, pk: int) -> Any:
    member = member_get(user_id=pk)
    if member is None:
        raise RecordNotFound("")
    return member


def _team(_actor: Any, pk: int) -> Any:
    team = team_get(team_id=pk)
    if team is None:
        raise RecordNotFound("")
    return team


class PersonSerializer(serializers.Serializer):
    """Who owns or did something: enough to show a name."""

    id = serializers.IntegerField(read_only=True)
    full_name = serializers.CharField(read_only=True)
    email = serializers.EmailField(read_only=True)


class TagNamesField(serializers.ListField):
    """Tags by name; unknown names are created (like typing a new tag in the UI)."""

    def __init__(self, **kwargs: Any):
        kwargs.setdefault("child", serializers.CharField(max_length=50))
        kwargs.setdefault("max_length", 50)
        super().__init__(**kwargs)

    def to_representation(self, value: Any) -> list[str]:
        return [tag.name for tag in value.all()]
