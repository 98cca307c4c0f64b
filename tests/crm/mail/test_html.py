"""Received HTML is made safe before anyone sees it."""

from crm.mail.html import html_sanitize, html_to_text


def test_scripts_handlers_and_javascript_links_are_removed():
    cleaned, _remote = html_sanitize(
        '<p onclick="steal()">Hi<script>alert(1)</script></p><a href="javascript:alert(2)">x</a>'
        '<iframe src="https://evil.example"></iframe><form action="https://evil.example"><input></form>'
    )

    assert "script" not in cleaned
    assert "onclick" not in cleaned
    assert "javascript:" not in cleaned
    assert "iframe" not in cleaned
    assert "<form" not in cleaned
    assert "Hi" in cleaned


def test_remote_images_are_detected_for_the_show_images_button():
    _cleaned, remote = html_sanitize('<p>Hello</p><img src="https://tracker.example/p.gif" width="1">')
    _cleaned, none = html_sanitize('<p>Hello</p><img src="cid:logo">')

    assert remote is True
    assert none is False


def test_remote_css_images_count_too():
    _cleaned, remote = html_sanitize('<div style="background:url(https://tracker.example/x.png)">x</div>')

    assert remote is True


def test_html_becomes_readable_text():
    assert html_to_text("<p>Dear Anna,</p><p>thanks &amp; regards<br>Bob</p>") == "Dear Anna,\nthanks & regards\nBob"
