"""Writes for the CRM domain. Runs inside the current tenant schema."""

from __future__ import annotations

from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext, gettext_noop

from crm.models import Pipeline, Stage, StageKind

# The reference process for a service business (seed 001): a deal is won when the work
# is delivered and the acts are signed, not when the money arrives.
SERVICE_PIPELINE_NAME = gettext_noop("Sales")
SERVICE_PIPELINE_STAGES: list[tuple[str, str, int]] = [
    (gettext_noop("New"), StageKind.OPEN, 10),
    (gettext_noop("Needs discovery"), StageKind.OPEN, 20),
    (gettext_noop("Proposal preparation"), StageKind.OPEN, 40),
    (gettext_noop("Proposal negotiation"), StageKind.OPEN, 60),
    (gettext_noop("Service delivery"), StageKind.OPEN, 80),
    (gettext_noop("Acts signed & feedback"), StageKind.WON, 100),
    (gettext_noop("Lost"), StageKind.LOST, 0),
]


@transaction.atomic
def pipeline_create_default(*, language: str) -> Pipeline:
    """Create the service-business pipeline as the workspace default (names in `language`)."""
    with translation.override(language):
        pipeline = Pipeline.objects.create(name=gettext(SERVICE_PIPELINE_NAME), is_default=True)
        Stage.objects.bulk_create(
            Stage(pipeline=pipeline, name=gettext(name), position=index, kind=kind, win_probability=probability)
            for index, (name, kind, probability) in enumerate(SERVICE_PIPELINE_STAGES)
        )
    return pipeline
