"""iCalendar (RFC 5545) text of a person's tasks, for calendars that subscribe to a feed.

Written by hand: the format is small, and what matters is exact — CRLF line ends, lines
folded at 75 octets without splitting a character, TEXT values escaped, times in UTC, a
stable UID per task and a SEQUENCE that grows when a task moves, so Google Calendar and
Outlook update an event instead of duplicating it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta

from accounts.models import User
from crm.activities.models import Task, TaskKind, TaskStatus

PRODID = "-//CRM//Tasks calendar//EN"
FOLD_AT = 75
# A task without a length still needs one in a calendar.
DEFAULT_MINUTES = {TaskKind.MEETING: 60, TaskKind.CALL: 15}
FALLBACK_MINUTES = 30
ALARM_MINUTES = 15


def escape_text(value: str) -> str:
    """A TEXT value: backslash, semicolon and comma escaped, line breaks as \\n."""
    return (
        value.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\n")
    )


def fold(line: str) -> str:
    """`line` folded into physical lines of at most 75 octets (RFC 5545 3.1)."""
    encoded = line.encode()
    if len(encoded) <= FOLD_AT:
        return line
    pieces: list[str] = []
    current = ""
    current_size = 0
    limit = FOLD_AT
    for char in line:
        size = len(char.encode())
        if current_size + size > limit:
            pieces.append(current)
            current, current_size = char, size
            limit = FOLD_AT - 1  # continuation lines start with a space
        else:
            current += char
            current_size += size
    pieces.append(current)
    return "\r\n ".join(pieces)


def utc_stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def task_minutes(task: Task) -> int:
    return task.duration_minutes or DEFAULT_MINUTES.get(task.kind, FALLBACK_MINUTES)


def _linked(task: Task) -> list[str]:
    return [str(record) for record in (task.lead, task.contact, task.company, task.deal) if record is not None]


def _event(task: Task, *, host: str, link: str) -> Iterator[str]:
    start = task.due_at
    end = start + timedelta(minutes=task_minutes(task))
    done = task.status == TaskStatus.DONE
    summary = f"✓ {task.title}" if done else task.title
    description = "\n".join(part for part in [task.description, ", ".join(_linked(task)), link] if part)
    yield "BEGIN:VEVENT"
    yield f"UID:task-{task.pk}@{host}"
    yield f"DTSTAMP:{utc_stamp(task.updated_at)}"
    yield f"LAST-MODIFIED:{utc_stamp(task.updated_at)}"
    # Grows with every change, as calendars require to replace the event they hold.
    yield f"SEQUENCE:{max(0, int((task.updated_at - task.created_at).total_seconds()))}"
    yield f"DTSTART:{utc_stamp(start)}"
    yield f"DTEND:{utc_stamp(end)}"
    yield f"SUMMARY:{escape_text(summary)}"
    if description:
        yield f"DESCRIPTION:{escape_text(description)}"
    if link:
        yield f"URL:{link}"
    yield f"CATEGORIES:{escape_text(task.get_kind_display())}"
    yield "STATUS:CONFIRMED"
    yield "TRANSP:TRANSPARENT" if done else "TRANSP:OPAQUE"
    if not done:
        yield "BEGIN:VALARM"
        yield "ACTION:DISPLAY"
        yield f"DESCRIPTION:{escape_text(task.title)}"
        yield f"TRIGGER:-PT{ALARM_MINUTES}M"
        yield "END:VALARM"
    yield "END:VEVENT"


def calendar_text(*, tasks: Iterable[Task], user: User, name: str, host: str, link_of) -> str:
    """The whole feed: one VEVENT per task; `link_of(task)` gives the address of its card."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{escape_text(name)}",
        "X-PUBLISHED-TTL:PT15M",
        "REFRESH-INTERVAL;VALUE=DURATION:PT15M",
    ]
    for task in tasks:
        lines.extend(_event(task, host=host, link=link_of(task)))
    lines.append("END:VCALENDAR")
    return "".join(f"{fold(line)}\r\n" for line in lines)
