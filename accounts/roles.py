"""Roles and what each may do (the seeds: access by position, seniority and trust).

A role grants, per record type and action, a scope: `none`, `own` (records the person
owns), `team` (records owned by people of their teams) or `all`. Records explicitly
shared with a person are visible to them whatever their role. Capabilities are the
administrative powers. `crm.access` applies these rules everywhere.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy, gettext_noop

ADMIN = "admin"
MANAGER = "manager"
SALES_REP = "sales_rep"
SUPPORT = "support"
MARKETING = "marketing"
READ_ONLY = "read_only"
FREELANCER = "freelancer"

RECORD_TYPES = ["lead", "contact", "company", "deal", "task", "activity", "product", "quote"]
ACTIONS = ["view", "create", "edit", "delete", "export"]
NONE, OWN, TEAM, ALL = "none", "own", "team", "all"
SCOPES = [NONE, OWN, TEAM, ALL]
SCOPE_LABELS = {
    NONE: gettext_lazy("No access"),
    OWN: gettext_lazy("Own records"),
    TEAM: gettext_lazy("Team's records"),
    ALL: gettext_lazy("All records"),
}

USERS, SEATS, BILLING, BACKUPS, SETTINGS = "users", "seats", "billing", "backups", "settings"
CAPABILITIES = [USERS, SEATS, BILLING, BACKUPS, SETTINGS]
CAPABILITY_LABELS = {
    USERS: gettext_lazy("Manage users, roles and invitations"),
    SEATS: gettext_lazy("Assign and free seats"),
    BILLING: gettext_lazy("Manage the subscription"),
    BACKUPS: gettext_lazy("Back up and restore"),
    SETTINGS: gettext_lazy("Change workspace settings, pipelines and lead forms"),
}

Permissions = dict[str, dict[str, str]]


def grant(scope_by_action: dict[str, str], record_types: list[str] | None = None) -> Permissions:
    """The same scopes for several record types."""
    return {record_type: dict(scope_by_action) for record_type in (record_types or RECORD_TYPES)}


def nothing() -> Permissions:
    return grant(dict.fromkeys(ACTIONS, NONE))


def merged(*parts: Permissions) -> Permissions:
    result = nothing()
    for part in parts:
        for record_type, actions in part.items():
            result[record_type].update(actions)
    return result


EVERYTHING = dict.fromkeys(ACTIONS, ALL)
READ = {"view": ALL}

# (code, name, description, permissions, capabilities); names translated at workspace creation.
DEFAULT_ROLES: list[tuple[str, str, str, Permissions, list[str]]] = [
    (
        ADMIN,
        gettext_noop("Administrator"),
        gettext_noop("Manages users, seats, settings and all data."),
        grant(EVERYTHING),
        list(CAPABILITIES),
    ),
    (
        MANAGER,
        gettext_noop("Sales manager"),
        gettext_noop("Sees and manages the team's records."),
        merged(
            grant({"view": TEAM, "create": ALL, "edit": TEAM, "delete": TEAM, "export": TEAM}),
            grant(READ, ["product"]),
        ),
        [],
    ),
    (
        SALES_REP,
        gettext_noop("Sales representative"),
        gettext_noop("Works own leads, contacts and deals."),
        merged(grant({"view": OWN, "create": ALL, "edit": OWN, "delete": OWN}), grant(READ, ["product"])),
        [],
    ),
    (
        SUPPORT,
        gettext_noop("Support agent"),
        gettext_noop("Handles customer requests and sees client cards."),
        merged(
            grant({"view": ALL, "edit": ALL}, ["contact", "company"]),
            grant({"view": ALL}, ["deal", "quote", "product"]),
            grant({"view": OWN, "create": ALL, "edit": OWN}, ["task", "activity"]),
        ),
        [],
    ),
    (
        MARKETING,
        gettext_noop("Marketing"),
        gettext_noop("Works with leads, lead forms and campaigns."),
        merged(
            grant({"view": ALL, "create": ALL, "edit": ALL, "export": ALL}, ["lead"]),
            grant({"view": ALL, "export": ALL}, ["contact", "company"]),
            grant(READ, ["deal", "product"]),
            grant({"view": OWN, "create": ALL, "edit": OWN}, ["task", "activity"]),
        ),
        [],
    ),
    (
        READ_ONLY,
        gettext_noop("Read-only"),
        gettext_noop("Sees every record, changes nothing."),
        grant(READ),
        [],
    ),
    (
        FREELANCER,
        gettext_noop("External freelancer"),
        gettext_noop("Only records explicitly shared with them."),
        nothing(),
        [],
    ),
]


def normalized_permissions(raw: object) -> Permissions:
    """Every record type and action present, unknown keys and scopes dropped."""
    result = nothing()
    if isinstance(raw, dict):
        for record_type, actions in raw.items():
            if record_type in result and isinstance(actions, dict):
                for action, scope in actions.items():
                    if action in ACTIONS and scope in SCOPES:
                        result[record_type][action] = scope
    return result
