"""Sentry events carry the tenant schema and no personal data by default."""

from __future__ import annotations

import sentry_sdk

from config import sentry


def test_events_are_tagged_with_the_tenant_and_carry_no_personal_data(settings):
    settings.SENTRY_DSN = "http://public@127.0.0.1:9/1"
    events: list[dict] = []

    class CapturingTransport(sentry_sdk.transport.Transport):
        def capture_envelope(self, envelope):
            events.extend(item.payload.json for item in envelope.items if item.type == "event")

    sentry.init_sentry()
    collection = sentry_sdk.get_client().options["data_collection"]
    sentry_sdk.get_client().transport = CapturingTransport(sentry_sdk.get_client().options)
    try:
        with sentry_sdk.isolation_scope():
            sentry.tag_tenant("t_acme")
            sentry_sdk.capture_message("deal board failed")
        sentry_sdk.flush()
    finally:
        sentry_sdk.init(dsn=None)

    assert events, "the event should have been sent"
    assert events[0]["tags"]["tenant"] == "t_acme"
    assert "user" not in events[0]
    assert collection["user_info"] is False
