"""The roles every new workspace starts with (the seeds: access by position and trust)."""

from __future__ import annotations

from django.utils.translation import gettext_noop

ADMIN = "admin"
MANAGER = "manager"
SALES_REP = "sales_rep"
SUPPORT = "support"
MARKETING = "marketing"
FREELANCER = "freelancer"

# (code, name, description); names are translated when a workspace is created.
DEFAULT_ROLES: list[tuple[str, str, str]] = [
    (ADMIN, gettext_noop("Administrator"), gettext_noop("Manages users, seats, settings and all data.")),
    (MANAGER, gettext_noop("Sales manager"), gettext_noop("Sees and manages the team's records.")),
    (SALES_REP, gettext_noop("Sales representative"), gettext_noop("Works own leads, contacts and deals.")),
    (SUPPORT, gettext_noop("Support agent"), gettext_noop("Handles customer requests and sees client cards.")),
    (MARKETING, gettext_noop("Marketing"), gettext_noop("Works with leads, lead forms and campaigns.")),
    (FREELANCER, gettext_noop("External freelancer"), gettext_noop("Narrow access to records shared with them.")),
]
