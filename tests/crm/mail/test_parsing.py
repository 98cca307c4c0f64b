"""Received messages are read whatever their form: charsets, damaged structure, odd headers."""

from __future__ import annotations

from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText

from crm.mail.parsing import message_ids, parse_message
from tests.crm.mail.servers import raw_message


def test_a_plain_message_gives_its_headers_and_text():
    parsed = parse_message(raw_message(message_id="<a1@client.example>", headers="In-Reply-To: <x@acme.example>\r\n"))

    assert parsed.message_id == "<a1@client.example>"
    assert parsed.in_reply_to == "<x@acme.example>"
    assert (parsed.from_name, parsed.from_address) == ("Ivan Petrov", "ivan@client.example")
    assert parsed.to == ["sales@acme.example"]
    assert parsed.subject == "Question about the offer"
    assert parsed.text.strip() == "Hello, what is the delivery time?"
    assert parsed.date.isoformat() == "2026-12-07T10:00:00+00:00"
    assert parsed.notes == []


def test_windows_1251_body_and_koi8_r_subject_are_decoded():
    body = "Здравствуйте! Сколько стоит доставка?".encode("cp1251")
    raw = (
        b"From: =?koi8-r?B?8NLJ18XU?= <a@client.example>\r\nTo: sales@acme.example\r\n"
        b"Subject: =?koi8-r?B?7s/Xz8UgxMXMzw==?=\r\nMessage-ID: <c1@client.example>\r\n"
        b"Content-Type: text/plain; charset=windows-1251\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" + body
    )

    parsed = parse_message(raw)

    assert parsed.subject == "Новое дело"
    assert parsed.from_name == "Привет"
    assert parsed.text == "Здравствуйте! Сколько стоит доставка?"


def test_iso_2022_jp_is_decoded():
    text = MIMEText("お見積もりをお願いします。", "plain", "iso-2022-jp")
    text["Subject"] = "見積もり"
    text["From"] = "taro@client.example"
    text["To"] = "sales@acme.example"

    parsed = parse_message(text.as_bytes())

    assert parsed.text.strip() == "お見積もりをお願いします。"
    assert parsed.subject == "見積もり"


def test_an_8_bit_header_without_encoding_is_read_as_the_bodys_charset():
    raw = (
        "Subject: Привет из Москвы\r\nFrom: Олег <oleg@client.example>\r\nTo: sales@acme.example\r\n"
        "Content-Type: text/plain; charset=windows-1251\r\n\r\n"
        "Добрый день"
        "\r\n"
    ).encode("cp1251")

    parsed = parse_message(raw)

    assert parsed.subject == "Привет из Москвы"
    assert parsed.from_address == "oleg@client.example"
    assert parsed.text.strip() == "Добрый день"


def test_an_unknown_charset_is_noted_and_the_text_kept():
    raw = b"From: a@client.example\r\nContent-Type: text/plain; charset=x-made-up\r\n\r\nplain words\r\n"

    parsed = parse_message(raw)

    assert parsed.text.strip() == "plain words"
    assert any("x-made-up" in note for note in parsed.notes)


def test_a_damaged_multipart_keeps_what_reads_and_says_so():
    raw = (
        b"From: a@client.example\r\nSubject: broken\r\nContent-Type: multipart/mixed; boundary=XYZ\r\n\r\n"
        b"--XYZ\r\nContent-Type: text/plain\r\n\r\nthe part that survived\r\n--XYZ\r\nContent-Type: application/pdf\r\n"
        b'Content-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename="a.pdf"\r\n\r\n!!!not base64'
    )

    parsed = parse_message(raw)

    assert parsed.subject == "broken"
    assert "the part that survived" in parsed.text
    assert [item.name for item in parsed.attachments] == ["a.pdf"]
    assert parsed.notes, "a damaged message carries a note"


def test_garbage_is_never_an_exception():
    for raw in (b"", b"\x00\xff\xfe" * 100, b"Subject: =?utf-8?B?###?=\r\n\r\n", b"From: <<<@@@>>>\r\n\r\nx"):
        parsed = parse_message(raw)
        assert isinstance(parsed.text, str)


def test_an_invalid_address_is_left_out_with_a_note():
    raw = b"From: ok@client.example\r\nTo: not an address, bob@client.example\r\n\r\nx"

    parsed = parse_message(raw)

    assert parsed.to == ["bob@client.example"]
    assert any("To" in note or "to" in note for note in parsed.notes)


def test_attachments_and_a_forwarded_message_are_files_not_the_body():
    outer = MIMEMultipart()
    outer["From"] = "a@client.example"
    outer["Subject"] = "see attached"
    outer.attach(MIMEText("The outer text", "plain", "utf-8"))
    outer.attach(MIMEApplication(b"%PDF-1.4 fake", Name="offer.pdf"))
    forwarded = MIMEText("The inner text", "plain", "utf-8")
    forwarded["Subject"] = "inner"
    from email.mime.message import MIMEMessage

    outer.attach(MIMEMessage(forwarded))

    parsed = parse_message(outer.as_bytes())

    assert parsed.text.strip() == "The outer text"
    assert parsed.attachments[0].name == "offer.pdf"
    assert parsed.attachments[0].data == b"%PDF-1.4 fake"
    assert parsed.attachments[1].content_type == "message/rfc822"
    assert b"Subject: inner" in parsed.attachments[1].data
    assert parse_message(parsed.attachments[1].data).text.strip() == "The inner text"


def test_message_ids_are_read_in_order_without_repeats():
    assert message_ids("<a@x> junk <b@y>\r\n <a@x>") == ["<a@x>", "<b@y>"]
