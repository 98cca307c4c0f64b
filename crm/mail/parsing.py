"""Reading a raw RFC 822 message (bytes) into what the CRM stores, without ever failing.

Python's `email` package (policy=default) does the parsing. Whatever it cannot read is
kept as far as it goes and described in `notes` (shown with the message): a damaged
structure, an unknown charset, a header that is not valid. Charsets are the declared
ones (windows-1251, koi8-r, iso-2022-jp... every codec Python has); 8-bit headers sent
without RFC 2047 encoding are read as UTF-8, else as the body's declared charset, else as
windows-1251 (the usual culprit).
"""

from __future__ import annotations

import email
import logging
import mimetypes
import re
from dataclasses import dataclass, field
from datetime import datetime
from email import policy
from email.message import EmailMessage as MimeMessage
from email.message import Message
from email.utils import getaddresses, parsedate_to_datetime

from django.utils import timezone
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)

MESSAGE_ID = re.compile(r"<[^<>\s]{1,990}>")
FALLBACK_CHARSETS = ("utf-8", "windows-1251")


@dataclass
class ParsedAttachment:
    name: str
    content_type: str
    data: bytes
    content_id: str = ""


@dataclass
class ParsedMessage:
    message_id: str = ""
    in_reply_to: str = ""
    references: list[str] = field(default_factory=list)
    from_name: str = ""
    from_address: str = ""
    reply_to: list[str] = field(default_factory=list)
    to: list[str] = field(default_factory=list)
    cc: list[str] = field(default_factory=list)
    subject: str = ""
    date: datetime | None = None
    text: str = ""
    html: str = ""
    attachments: list[ParsedAttachment] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)


def message_ids(text: str) -> list[str]:
    """The <message ids> in a header value, in order, without repeats."""
    found: list[str] = []
    for match in MESSAGE_ID.findall(text or ""):
        if match not in found:
            found.append(match)
    return found


def parse_message(raw: bytes) -> ParsedMessage:
    """Everything readable in `raw`; never raises for bad input (see the module docstring)."""
    parsed = ParsedMessage()
    try:
        message = email.message_from_bytes(raw, policy=policy.default)
    except Exception:
        logger.warning("unparseable message kept as text", exc_info=True)
        parsed.note(_("This message could not be read as email; its raw text is shown."))
        parsed.text = raw.decode("utf-8", errors="replace")
        return parsed
    charset_hint = _declared_charset(message)
    parsed.subject = _text_header(message, "subject", raw, charset_hint, parsed)[:500]
    parsed.message_id = (message_ids(_text_header(message, "message-id", raw, charset_hint, parsed)) or [""])[0]
    parsed.in_reply_to = (message_ids(_text_header(message, "in-reply-to", raw, charset_hint, parsed)) or [""])[0]
    parsed.references = message_ids(_text_header(message, "references", raw, charset_hint, parsed))[-50:]
    senders = _addresses(message, "from", raw, charset_hint, parsed)
    if senders:
        parsed.from_name, parsed.from_address = senders[0]
    parsed.reply_to = [address for _name, address in _addresses(message, "reply-to", raw, charset_hint, parsed)]
    parsed.to = [address for _name, address in _addresses(message, "to", raw, charset_hint, parsed)]
    parsed.cc = [address for _name, address in _addresses(message, "cc", raw, charset_hint, parsed)]
    parsed.date = _date(message, parsed)
    _walk(message, parsed)
    if message.defects or any(part.defects for part in message.walk()):
        parsed.note(_("Parts of this message are damaged; it is shown as far as it could be read."))
    return parsed


def _declared_charset(message: Message) -> str:
    for part in message.walk():
        charset = part.get_content_charset()
        if charset:
            return charset
    return ""


def _raw_header(raw: bytes, name: str) -> bytes | None:
    """The undecoded bytes of header `name` (unfolded), from the header block of `raw`."""
    head = raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    pattern = re.compile(rb"^" + re.escape(name.encode()) + rb":[ \t]*(.*(?:\r?\n[ \t].*)*)", re.I | re.M)
    match = pattern.search(head)
    if match is None:
        return None
    return re.sub(rb"\r?\n[ \t]", b" ", match.group(1)).strip()


def _decode_8bit(data: bytes, hint: str, parsed: ParsedMessage) -> str:
    for charset in (FALLBACK_CHARSETS[0], hint, FALLBACK_CHARSETS[1]):
        if not charset:
            continue
        try:
            return data.decode(charset)
        except (LookupError, UnicodeDecodeError):
            continue
    parsed.note(_("Some headers use an unknown character set."))
    return data.decode("utf-8", errors="replace")


def _text_header(message: Message, name: str, raw: bytes, hint: str, parsed: ParsedMessage) -> str:
    try:
        value = message.get(name)
    except Exception:
        value = None
        parsed.note(_("The “%(header)s” header could not be read.") % {"header": name})
    text = str(value) if value is not None else ""
    if "\ufffd" in text:
        data = _raw_header(raw, name)
        if data is not None and not data.startswith(b"=?"):
            text = _decode_8bit(data, hint, parsed)
    return " ".join(text.split())


def _addresses(message: Message, name: str, raw: bytes, hint: str, parsed: ParsedMessage) -> list[tuple[str, str]]:
    """(display name, lowercased address) pairs; what isn't an address is noted and left out."""
    try:
        values = message.get_all(name) or []
        texts = [str(value) for value in values]
    except Exception:
        parsed.note(_("The “%(header)s” header could not be read.") % {"header": name})
        return []
    if any("\ufffd" in text for text in texts):
        data = _raw_header(raw, name)
        if data is not None:
            texts = [_decode_8bit(data, hint, parsed)]
    found: list[tuple[str, str]] = []
    for display, address in getaddresses(texts):
        address = address.strip().strip("<>").lower()
        if "@" not in address or " " in address or len(address) > 254:
            if address or display:
                parsed.note(_("An address in “%(header)s” is not valid and was left out.") % {"header": name})
            continue
        if address not in [known for _display, known in found]:
            found.append((" ".join(display.split())[:200], address))
    return found


def _date(message: Message, parsed: ParsedMessage) -> datetime | None:
    try:
        value = message.get("date")
        if value is None:
            return None
        stamp = parsedate_to_datetime(str(value))
    except Exception:
        parsed.note(_("The message's date could not be read; the time it arrived is shown."))
        return None
    if timezone.is_naive(stamp):
        stamp = timezone.make_aware(stamp, timezone.utc)
    return stamp


def _part_text(part: Message, parsed: ParsedMessage) -> str:
    try:
        content = part.get_content()  # type: ignore[attr-defined]
        if isinstance(content, str):
            return content
    except (LookupError, UnicodeError, AssertionError, KeyError, ValueError):
        pass
    payload = part.get_payload(decode=True) or b""
    charset = part.get_content_charset() or ""
    try:
        return payload.decode(charset or "utf-8")
    except (LookupError, UnicodeDecodeError):
        if charset:
            parsed.note(_("A part uses an unknown character set (%(charset)s).") % {"charset": charset[:40]})
        return _decode_8bit(payload, "", parsed)


def _filename(part: Message, index: int, content_type: str) -> str:
    try:
        name = part.get_filename() or ""
    except Exception:
        name = ""
    if not name:
        extension = mimetypes.guess_extension(content_type, strict=False) or ".bin"
        name = f"part-{index}{extension}"
    return name


def _leaves(part: Message):
    """The message's single parts in order; a forwarded message (message/rfc822) is one
    part, kept whole as an attachment, not opened into this message's body."""
    if part.get_content_type() == "message/rfc822":
        yield part
        return
    if part.is_multipart():
        payload = part.get_payload()
        for sub in payload if isinstance(payload, list) else []:
            if isinstance(sub, Message):
                yield from _leaves(sub)
        return
    yield part


def _walk(message: Message, parsed: ParsedMessage) -> None:
    index = 0
    for part in _leaves(message):
        index += 1
        content_type = part.get_content_type()
        try:
            disposition = part.get_content_disposition()
        except Exception:
            disposition = None
        has_name = bool(part.get_param("name") or part.get_param("filename", header="content-disposition"))
        is_body = disposition != "attachment" and not has_name
        if content_type == "text/plain" and is_body and not parsed.text:
            parsed.text = _part_text(part, parsed)
            continue
        if content_type == "text/html" and is_body and not parsed.html:
            parsed.html = _part_text(part, parsed)
            continue
        data = _attachment_bytes(part)
        content_id = " ".join(str(part.get("content-id", "")).split()).strip("<>")[:255]
        parsed.attachments.append(
            ParsedAttachment(
                name=_filename(part, index, content_type), content_type=content_type, data=data, content_id=content_id
            )
        )


def _attachment_bytes(part: Message) -> bytes:
    if part.get_content_type() == "message/rfc822":
        try:
            inner = part.get_payload(0)
            if isinstance(inner, MimeMessage | Message):
                return inner.as_bytes(policy=policy.SMTP)
        except Exception:
            logger.debug("forwarded message kept undecoded", exc_info=True)
    payload = part.get_payload(decode=True)
    if isinstance(payload, bytes):
        return payload
    text = part.get_payload()
    return text.encode("utf-8", errors="replace") if isinstance(text, str) else b""
