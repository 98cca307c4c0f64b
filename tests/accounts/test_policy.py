"""scope_for reads one entry of a role's permissions exactly as the normalized role has it."""

from __future__ import annotations

import pytest

from accounts import roles
from accounts.models import Role, User
from accounts.policy import scope_for

PAYLOADS = [
    roles.merged(),
    {"deal": {"view": "own", "edit": "team"}, "contact": {"view": "all"}},
    {"deal": {"view": "everything"}, "contact": {"view": ["all"]}, "lead": "all"},
    {"unknown": {"view": "all"}, "deal": {"fly": "all", "view": None}},
    {"deal": {"view": {"nested": "all"}}},
    ["not", "a", "mapping"],
    None,
]


def member_with(permissions) -> User:
    return User(is_active=True, role=Role(pk=1, code="custom", permissions=permissions))


@pytest.mark.parametrize("permissions", PAYLOADS)
def test_every_record_type_and_action_reads_as_the_normalized_role(permissions):
    member = member_with(permissions)
    normalized = roles.normalized_permissions(permissions)

    for record_type in [*roles.RECORD_TYPES, "unknown"]:
        for action in [*roles.ACTIONS, "fly"]:
            expected = normalized.get(record_type, {}).get(action, roles.NONE)
            assert scope_for(member, record_type, action) == expected, (record_type, action)


def test_a_switched_off_member_has_no_scope_whatever_the_role_grants():
    member = member_with({"deal": {"view": "all"}})
    member.is_active = False

    assert scope_for(member, "deal", "view") == roles.NONE
