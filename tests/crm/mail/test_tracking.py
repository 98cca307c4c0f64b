"""Opens and clicks are counted only when the workspace switched tracking on."""

from __future__ import annotations

import pytest

from crm.clients.services import contact_create
from crm.mail.delivery import mime_of
from crm.mail.services import email_clicked, email_opened, email_send, mail_settings_update, tracking_base


@pytest.fixture
def anna(alice):
    return contact_create(actor=alice, first_name="Anna", emails=["anna@client.example"])


def html_part(message) -> str:
    mime = mime_of(message, tracking_base=tracking_base())
    return mime.alternatives[0][0]


def test_by_default_nothing_is_tracked(alice, anna):
    message = email_send(
        actor=alice, to="anna@client.example", subject="Hi", body="See https://acme.example/offer", record=anna
    )

    html = html_part(message)
    assert message.tracking_token is None
    assert "/mail/t/" not in html
    assert 'href="https://acme.example/offer"' in html


def test_with_tracking_on_a_pixel_counts_opens_and_links_count_clicks(alice, anna):
    mail_settings_update(actor=alice, track_opens=True, track_clicks=True, create_leads=False)
    message = email_send(
        actor=alice, to="anna@client.example", subject="Hi", body="See https://acme.example/offer?a=1&b=2", record=anna
    )

    html = html_part(message)
    token = message.tracking_token
    assert f"/mail/t/{token}/o.gif" in html
    assert f'href="{tracking_base()}{token}/l/0/"' in html
    assert email_opened(token=token) and email_opened(token=token)
    assert email_clicked(token=token, index=0) == "https://acme.example/offer?a=1&b=2"
    assert email_clicked(token=token, index=5) is None
    message.refresh_from_db()
    assert (message.open_count, message.click_count) == (2, 1)
    assert message.first_opened_at is not None


def test_an_unknown_token_counts_nothing(acme):
    assert email_opened(token="nope") is False
    assert email_clicked(token="nope", index=0) is None
