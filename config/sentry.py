"""Sentry set-up: errors tagged with the tenant schema, no personal data by default."""

from __future__ import annotations

from django.conf import settings


def init_sentry() -> None:
    if not settings.SENTRY_DSN:
        return
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=settings.SENTRY_DSN,
        environment=settings.SENTRY_ENVIRONMENT,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        # No user identity, no request bodies unless explicitly asked for (GDPR / 152-FZ).
        data_collection={"user_info": settings.SENTRY_SEND_PII, "http_bodies": []},
        traces_sample_rate=settings.SENTRY_TRACES_SAMPLE_RATE,
    )


def tag_tenant(schema_name: str) -> None:
    if not settings.SENTRY_DSN:
        return
    import sentry_sdk

    sentry_sdk.get_isolation_scope().set_tag("tenant", schema_name)
