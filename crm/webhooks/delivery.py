"""Sending one webhook: where it may go (no SSRF), how it is signed, and the HTTP POST.

- Only http(s) URLs; unless settings.WEBHOOK_ALLOW_PRIVATE_URLS (dev, tests), every
  address the host name resolves to must be public (no loopback, private, link-local,
  reserved or multicast ranges: no cloud metadata service, no database next door).
- The connection goes to the address that was checked (no second DNS lookup that a
  rebinding attacker could answer differently); redirects are not followed.
- Signature like Stripe's: `X-CRM-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of
  "<t>.<body>" with the endpoint's secret>`. Receivers recompute it and reject old `t`.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _

SIGNATURE_HEADER = "X-CRM-Signature"
USER_AGENT = "CRM-Webhooks/1"
RESPONSE_EXCERPT = 1000


class UrlRefused(ValueError):
    """The URL may not receive webhooks; the message says why."""


def signature(*, secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def signature_valid(*, secret: str, header: str, body: bytes, tolerance_seconds: int = 300) -> bool:
    """What a receiver does: recompute and compare in constant time; refuse stale stamps."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(time.time() - timestamp) > tolerance_seconds:
        return False
    return hmac.compare_digest(signature(secret=secret, timestamp=timestamp, body=body), header)


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def url_target(url: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, address to connect to) for `url`, or UrlRefused."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UrlRefused(_("Use an http:// or https:// address."))
    if parts.username or parts.password:
        raise UrlRefused(_("Put no user name or password in the address; use the signing secret."))
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as error:
        raise UrlRefused(_("The port in this address is not valid.")) from error
    try:
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as error:
        raise UrlRefused(_("This host name does not resolve.")) from error
    addresses = [info[4][0] for info in infos]
    if not settings.WEBHOOK_ALLOW_PRIVATE_URLS and not all(_public(address) for address in addresses):
        raise UrlRefused(_("This address points into a private network; use a public one."))
    return parts.scheme, parts.hostname, port, addresses[0]


@dataclass(frozen=True)
class Outcome:
    status: int | None
    body: str
    error: str
    duration_ms: int

    @property
    def delivered(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float):
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float):
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def post(*, url: str, secret: str, body: bytes, event: str, event_id: str) -> Outcome:
    """POST `body` (JSON) to `url`, signed; never raises for the receiver's or network's faults."""
    started = time.monotonic()
    try:
        scheme, host, port, address = url_target(url)
        parts = urlsplit(url)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        connection_class = _PinnedHTTPSConnection if scheme == "https" else _PinnedHTTPConnection
        connection = connection_class(host, port, address, settings.WEBHOOK_TIMEOUT_SECONDS)
        try:
            connection.request(
                "POST",
                path,
                body=body,
                headers={
                    "Content-Type": "application/json",
                    "User-Agent": USER_AGENT,
                    "X-CRM-Event": event,
                    "X-CRM-Event-Id": event_id,
                    SIGNATURE_HEADER: signature(secret=secret, timestamp=int(time.time()), body=body),
                },
            )
            response = connection.getresponse()
            excerpt = response.read(RESPONSE_EXCERPT).decode("utf-8", "replace")
            return Outcome(response.status, excerpt, "", _since(started))
        finally:
            connection.close()
    except UrlRefused as refused:
        return Outcome(None, "", str(refused), _since(started))
    except (OSError, http.client.HTTPException) as failure:
        return Outcome(None, "", f"{type(failure).__name__}: {failure}"[:500], _since(started))


def _since(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def retry_delay(attempt: int) -> int:
    """Seconds to wait after failed attempt number `attempt` (exponential backoff)."""
    return settings.WEBHOOK_RETRY_BASE_SECONDS * 2 ** (attempt - 1)
