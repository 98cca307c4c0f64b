"""The events a workspace can subscribe to, and the payload each carries.

CRM services call one function here after a change; the deliveries are queued only when
their transaction commits, so a rolled-back change never reaches anyone.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

LEAD_CREATED = "lead.created"
LEAD_CONVERTED = "lead.converted"
DEAL_CREATED = "deal.created"
DEAL_STAGE_CHANGED = "deal.stage_changed"
DEAL_WON = "deal.won"
DEAL_LOST = "deal.lost"
CONTACT_CREATED = "contact.created"
PING = "ping"

EVENTS = {
    LEAD_CREATED: _("A lead was created"),
    LEAD_CONVERTED: _("A lead was converted"),
    DEAL_CREATED: _("A deal was created"),
    DEAL_STAGE_CHANGED: _("A deal moved to another stage"),
    DEAL_WON: _("A deal was won"),
    DEAL_LOST: _("A deal was lost"),
    CONTACT_CREATED: _("A contact was created"),
}


def _when(value) -> str | None:
    return value.isoformat() if value else None


def custom_fields_payload(entity: str, record) -> dict[str, Any]:
    """Every live custom field's value in its stored JSON form (null when empty), as the API shows it."""
    from crm.custom_fields.queries import values_by_key
    from crm.custom_fields.selectors import custom_fields_for

    return values_by_key(custom_fields_for(entity), getattr(record, "custom_fields", None))


def person_payload(user) -> dict[str, Any] | None:
    return {"id": user.pk, "full_name": user.full_name, "email": user.email} if user is not None else None


def lead_payload(lead) -> dict[str, Any]:
    return {
        "id": lead.pk,
        "name": lead.name,
        "email": lead.email,
        "phone": lead.phone,
        "company_name": getattr(lead, "company_name", ""),
        "status": lead.status,
        "channel": getattr(lead, "channel", ""),
        "utm_source": getattr(lead, "utm_source", ""),
        "owner": person_payload(lead.owner),
        "custom_fields": custom_fields_payload("lead", lead),
        "created_at": _when(lead.created_at),
    }


def contact_payload(contact) -> dict[str, Any]:
    return {
        "id": contact.pk,
        "full_name": contact.full_name,
        "emails": list(contact.emails or []),
        "phones": list(contact.phones or []),
        "company": contact.company_id,
        "owner": person_payload(contact.owner),
        "custom_fields": custom_fields_payload("contact", contact),
        "created_at": _when(contact.created_at),
    }


def deal_payload(deal) -> dict[str, Any]:
    return {
        "id": deal.pk,
        "title": deal.title,
        "amount": str(deal.amount),
        "currency": deal.currency,
        "pipeline": deal.pipeline_id,
        "stage": {"id": deal.stage.pk, "name": deal.stage.name, "kind": deal.stage.kind},
        "contact": deal.contact_id,
        "company": deal.company_id,
        "owner": person_payload(deal.owner),
        "lost_reason": deal.lost_reason,
        "closed_at": _when(deal.closed_at),
        "custom_fields": custom_fields_payload("deal", deal),
        "created_at": _when(deal.created_at),
    }


def lead_created(lead) -> None:
    from crm.webhooks.services import webhook_event_emit

    webhook_event_emit(event=LEAD_CREATED, payload=lambda: {"lead": lead_payload(lead)})


def lead_converted(conversion) -> None:
    from crm.webhooks.services import webhook_event_emit

    webhook_event_emit(
        event=LEAD_CONVERTED,
        payload=lambda: {
            "lead": lead_payload(conversion.lead),
            "contact": contact_payload(conversion.contact),
            "company": {
                "id": conversion.company.pk,
                "name": conversion.company.name,
                "custom_fields": custom_fields_payload("company", conversion.company),
            }
            if conversion.company
            else None,
            "deal": deal_payload(conversion.deal) if conversion.deal else None,
        },
    )


def contact_created(contact) -> None:
    from crm.webhooks.services import webhook_event_emit

    webhook_event_emit(event=CONTACT_CREATED, payload=lambda: {"contact": contact_payload(contact)})


def deal_created(deal) -> None:
    from crm.webhooks.services import webhook_event_emit

    webhook_event_emit(event=DEAL_CREATED, payload=lambda: {"deal": deal_payload(deal)})


def deal_moved(deal, previous) -> None:
    """deal.stage_changed, and deal.won / deal.lost when it entered a won or lost stage."""
    from crm.deals.models import StageKind
    from crm.webhooks.services import webhook_event_emit

    payload = {
        "deal": deal_payload(deal),
        "from_stage": {"id": previous.pk, "name": previous.name, "kind": previous.kind},
    }
    webhook_event_emit(event=DEAL_STAGE_CHANGED, payload=payload)
    if deal.stage.kind == StageKind.WON:
        webhook_event_emit(event=DEAL_WON, payload=payload)
    elif deal.stage.kind == StageKind.LOST:
        webhook_event_emit(event=DEAL_LOST, payload=payload)
