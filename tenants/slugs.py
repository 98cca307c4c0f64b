"""Rules for a workspace address (`<slug>.<BASE_DOMAIN>`) and its schema name."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

SLUG_MIN_LENGTH = 3
SLUG_MAX_LENGTH = 40
_SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$")

# Names a customer may not take: our own hosts, mail and infrastructure names, and words
# that would confuse people or phishers ("login.example.com").
RESERVED_SLUGS = frozenset(
    {
        "www",
        "api",
        "admin",
        "administrator",
        "public",
        "static",
        "media",
        "assets",
        "cdn",
        "billing",
        "pay",
        "payments",
        "invoice",
        "mail",
        "email",
        "smtp",
        "imap",
        "pop",
        "mx",
        "ftp",
        "ssh",
        "vpn",
        "ns",
        "ns1",
        "ns2",
        "dns",
        "app",
        "apps",
        "dashboard",
        "console",
        "login",
        "logout",
        "signin",
        "signup",
        "register",
        "auth",
        "oauth",
        "sso",
        "account",
        "accounts",
        "help",
        "support",
        "docs",
        "status",
        "blog",
        "news",
        "about",
        "pricing",
        "security",
        "root",
        "system",
        "platform",
        "internal",
        "demo-admin",
        "test",
        "staging",
        "dev",
        "beta",
        "sandbox",
        "template",
        "webhook",
        "webhooks",
        "forms",
        "crm",
        "healthz",
        "metrics",
        "monitoring",
        "postgres",
        "postgresql",
        "redis",
        "celery",
        "localhost",
        "example",
        "abuse",
        "postmaster",
        "hostmaster",
        "webmaster",
        "noreply",
        "no-reply",
    }
)


def slug_normalize(raw: str) -> str:
    return (raw or "").strip().lower()


def slug_validate(slug: str) -> None:
    """Raise ValidationError (code: invalid / reserved) unless `slug` is a usable address."""
    if not (SLUG_MIN_LENGTH <= len(slug) <= SLUG_MAX_LENGTH):
        raise ValidationError(
            _("Use %(min)d to %(max)d characters.") % {"min": SLUG_MIN_LENGTH, "max": SLUG_MAX_LENGTH},
            code="invalid",
        )
    if not _SLUG.match(slug) or "--" in slug:
        raise ValidationError(
            _("Use lowercase Latin letters, digits and single hyphens; start and end with a letter or digit."),
            code="invalid",
        )
    if slug in RESERVED_SLUGS:
        raise ValidationError(_("This address is reserved. Please choose another."), code="reserved")


def schema_name_for(slug: str) -> str:
    """`acme-co` → `t_acme_co`. The prefix keeps clear of `pg_*` and `public`."""
    return "t_" + slug.replace("-", "_")
