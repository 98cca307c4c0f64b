"""Email templates: Django's template language in a sandbox.

- An engine of its own with no loaders and only the tags and filters of
  crm.mail.template_builtins (no `load`, `include`, `url`, `debug`...).
- The context is a whitelist of plain values: `contact.*`, `company.*`, `lead.*`,
  `deal.*`, `sender.*`, `workspace.*` (VARIABLES). Every variable a template uses is
  checked against it before rendering, so `{{ contact.owner.password }}` or
  `{{ contact.first_name.upper }}` is an "unknown variable" field error, never an
  attribute lookup on a model.
- Syntax errors and unknown variables are ValidationError on `subject` / `body`, with
  the line and what is allowed; rendering never raises anything else.
- Rendered in the template's language (dates, numbers), else the workspace's.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.template import Context, Engine, Node, NodeList, TemplateSyntaxError
from django.template.base import FilterExpression, Variable
from django.template.defaulttags import WithNode
from django.template.smartif import TokenBase
from django.utils import translation
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

SUBJECT_MAX = 255
BODY_MAX = 20_000

VARIABLES: dict[str, dict[str, Any]] = {
    "contact": {
        "first_name": gettext_lazy("first name"),
        "last_name": gettext_lazy("last name"),
        "full_name": gettext_lazy("full name"),
        "email": gettext_lazy("email"),
        "phone": gettext_lazy("phone"),
        "job_title": gettext_lazy("job title"),
    },
    "company": {
        "name": gettext_lazy("name"),
        "website": gettext_lazy("website"),
        "email": gettext_lazy("email"),
        "phone": gettext_lazy("phone"),
    },
    "lead": {
        "name": gettext_lazy("name"),
        "company_name": gettext_lazy("company"),
        "email": gettext_lazy("email"),
        "phone": gettext_lazy("phone"),
    },
    "deal": {"title": gettext_lazy("title"), "amount": gettext_lazy("amount"), "currency": gettext_lazy("currency")},
    "sender": {
        "name": gettext_lazy("name"),
        "first_name": gettext_lazy("first name"),
        "email": gettext_lazy("email"),
    },
    "workspace": {"name": gettext_lazy("name")},
}
FORLOOP = "forloop"


class _SandboxEngine(Engine):
    # Django adds its default tags (load, include, for, debug, url...) to every engine's
    # builtins; this one has only ours.
    default_builtins: list[str] = []


_ENGINE = _SandboxEngine(
    loaders=[("django.template.loaders.locmem.Loader", {})],
    builtins=["crm.mail.template_builtins"],
    libraries={},
    autoescape=False,
    debug=False,
)


def variable_names() -> list[str]:
    """Every variable a template may use, as people type them."""
    return [f"{root}.{name}" for root, fields in VARIABLES.items() for name in fields]


def _compile(text: str, field: str):
    try:
        return _ENGINE.from_string(text)
    except TemplateSyntaxError as error:
        raise ValidationError(
            {field: [ValidationError(_("This template has an error: %(error)s") % {"error": error}, code="syntax")]}
        ) from error
    except (ValueError, TypeError, RecursionError) as error:
        raise ValidationError({field: [ValidationError(_("This template cannot be read."), code="syntax")]}) from error


def _walk(value: Any, depth: int = 0) -> Iterator[Any]:
    """Every FilterExpression and node reachable from `value` (nodes, node lists,
    conditions of `if`, arguments of filters)."""
    if depth > 200:
        return
    if isinstance(value, FilterExpression):
        yield value
        for _function, arguments in value.filters:
            for _is_lookup, argument in arguments:
                if isinstance(argument, Variable):
                    yield argument
        return
    if isinstance(value, NodeList | list | tuple):
        for item in value:
            yield from _walk(item, depth + 1)
        return
    if isinstance(value, dict):
        for item in value.values():
            yield from _walk(item, depth + 1)
        return
    if isinstance(value, Node):
        yield value
        for name, item in vars(value).items():
            if name not in ("origin", "token"):
                yield from _walk(item, depth + 1)
        return
    if isinstance(value, TokenBase):
        for name in ("first", "second", "value"):
            if hasattr(value, name):
                yield from _walk(getattr(value, name), depth + 1)


def _unknown_variables(template) -> list[str]:
    found = list(_walk(template.nodelist))
    local = {FORLOOP}
    for item in found:
        if isinstance(item, WithNode):
            local.update(item.extra_context)
    unknown: list[str] = []
    for item in found:
        variable = item.var if isinstance(item, FilterExpression) else item
        if not isinstance(variable, Variable) or variable.lookups is None:
            continue  # a literal
        lookups = variable.lookups
        root = lookups[0]
        if root in local:
            if len(lookups) == 1 or root == FORLOOP:
                continue
        elif root in VARIABLES and len(lookups) == 2 and lookups[1] in VARIABLES[root]:
            continue
        name = ".".join(lookups)
        if name not in unknown:
            unknown.append(name)
    return unknown


def template_check(*, subject: str, body: str) -> None:
    """Raise ValidationError (per field) unless both parts compile and use only known
    variables; also when they are too long, or both empty."""
    errors: dict[str, list[ValidationError]] = {}
    if not (subject or "").strip() and not (body or "").strip():
        errors["body"] = [ValidationError(_("Write the text of the email."), code="required")]
    for field, text, maximum in (("subject", subject or "", SUBJECT_MAX), ("body", body or "", BODY_MAX)):
        if len(text) > maximum:
            errors.setdefault(field, []).append(
                ValidationError(_("Keep this under %(count)d characters.") % {"count": maximum + 1}, code="max_length")
            )
            continue
        try:
            template = _compile(text, field)
        except ValidationError as error:
            errors.setdefault(field, []).extend(error.error_dict[field])
            continue
        unknown = _unknown_variables(template)
        if unknown:
            errors.setdefault(field, []).append(
                ValidationError(
                    _("Unknown variable: %(names)s. Use one of: %(known)s.")
                    % {"names": ", ".join(unknown), "known": ", ".join(variable_names())},
                    code="unknown_variable",
                )
            )
    if errors:
        raise ValidationError(errors)


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str


def render(*, subject: str, body: str, context: dict[str, dict[str, str]], language: str = "") -> Rendered:
    """Both parts rendered with `context` (see `template_context`). Raises ValidationError
    per field for a template that does not pass `template_check`."""
    template_check(subject=subject, body=body)
    values = {
        root: {name: context.get(root, {}).get(name, "") for name in fields} for root, fields in VARIABLES.items()
    }
    with translation.override(language or translation.get_language()):
        parts = [
            _compile(text or "", field).render(Context(values))
            for field, text in (("subject", subject), ("body", body))
        ]
    return Rendered(subject=" ".join(parts[0].split())[:SUBJECT_MAX], body=parts[1].strip())


def _first(values) -> str:
    return values[0] if values else ""


def template_context(
    *, contact=None, company=None, lead=None, deal=None, sender=None, workspace_name: str = ""
) -> dict:
    """The whitelisted values of the records an email is about, as plain strings."""
    if contact is not None and company is None:
        company = contact.company
    if deal is not None:
        contact = contact or deal.contact
        company = company or deal.company
    context: dict[str, dict[str, str]] = {"workspace": {"name": workspace_name}}
    if contact is not None:
        context["contact"] = {
            "first_name": contact.first_name,
            "last_name": contact.last_name,
            "full_name": contact.full_name,
            "email": _first(contact.emails),
            "phone": _first(contact.phones),
            "job_title": contact.job_title,
        }
    if company is not None:
        context["company"] = {
            "name": company.name,
            "website": company.website,
            "email": _first(company.emails),
            "phone": _first(company.phones),
        }
    if lead is not None:
        context["lead"] = {
            "name": lead.name,
            "company_name": lead.company_name,
            "email": lead.email,
            "phone": lead.phone,
        }
    if deal is not None:
        context["deal"] = {
            "title": deal.title,
            "amount": number_format(deal.amount, decimal_pos=2, use_l10n=True, force_grouping=True),
            "currency": deal.currency,
        }
    if sender is not None:
        name = sender.full_name or ""
        context["sender"] = {"name": name, "first_name": name.split(" ")[0] if name else "", "email": sender.email}
    return context


SAMPLE = {
    "contact": {
        "first_name": "Anna",
        "last_name": "Lindqvist",
        "full_name": "Anna Lindqvist",
        "email": "anna@example.com",
        "phone": "+46 8 123 456 78",
        "job_title": "Head of purchasing",
    },
    "company": {"name": "Nordic Tools AB", "website": "https://example.com", "email": "info@example.com", "phone": ""},
    "lead": {"name": "Anna Lindqvist", "company_name": "Nordic Tools AB", "email": "anna@example.com", "phone": ""},
    "deal": {"title": "200 cordless drills", "amount": "12,400.00", "currency": "EUR"},
}
