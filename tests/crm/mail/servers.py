"""Real mail servers on loopback for the mail tests.

- SMTP: aiosmtpd (a Python SMTP server) in a thread of the test process, on a free
  port, keeping every message it accepts; optionally asking for a user name and password,
  or answering a chosen error for the next messages.
- IMAP: Debian's dovecot (`make mail-deps`), started once per session with a
  configuration of its own in a temporary folder (no system service, no privileged
  port), a passwd-file user and a Maildir the tests deliver messages into. Without
  dovecot the IMAP tests are skipped with that instruction.
"""

from __future__ import annotations

import contextlib
import email
import grp
import os
import pwd
import shutil
import subprocess
import time
import uuid
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import policy
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.processes import free_port, port_answers, wait_for

DOVECOT = Path("/usr/sbin/dovecot")


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    content: bytes

    @property
    def message(self):
        return email.message_from_bytes(self.content, policy=policy.default)


@dataclass
class SmtpServer:
    port: int
    username: str = ""
    password: str = ""
    received: list[Received] = field(default_factory=list)
    # Answers for the next DATA commands, in order (e.g. "451 4.3.0 Try again later").
    failures: list[str] = field(default_factory=list)

    def wait_for_messages(self, count: int = 1, timeout: float = 30) -> list[Received]:
        assert wait_for(lambda: len(self.received) >= count, timeout=timeout), f"{len(self.received)} received"
        return self.received


class _Handler:
    def __init__(self, server: SmtpServer):
        self.server = server

    async def handle_DATA(self, smtp, session, envelope):
        if self.server.failures:
            return self.server.failures.pop(0)
        self.server.received.append(
            Received(mail_from=envelope.mail_from, rcpt_tos=list(envelope.rcpt_tos), content=envelope.original_content)
        )
        return "250 2.0.0 Message accepted"


@contextlib.contextmanager
def smtp_server(*, username: str = "", password: str = "") -> Iterator[SmtpServer]:
    server = SmtpServer(port=free_port(), username=username, password=password)

    def authenticate(smtp, session, envelope, mechanism, auth_data):
        if isinstance(auth_data, LoginPassword) and (
            auth_data.login.decode() == username and auth_data.password.decode() == password
        ):
            return AuthResult(success=True)
        return AuthResult(success=False, handled=False)

    options = {}
    if username:
        options = {"authenticator": authenticate, "auth_required": True, "auth_require_tls": False}
    with warnings.catch_warnings():
        # Loopback only: AUTH without TLS is what these tests mean to exercise.
        warnings.filterwarnings("ignore", "Requiring AUTH while not requiring TLS")
        controller = Controller(_Handler(server), hostname="127.0.0.1", port=server.port, **options)
        controller.start()
    try:
        yield server
    finally:
        controller.stop()


# --- IMAP ------------------------------------------------------------------------------


@dataclass
class ImapServer:
    port: int
    username: str
    password: str
    home: Path
    uid: int
    gid: int

    @property
    def maildir(self) -> Path:
        return self.home / "Maildir"

    def deliver(self, raw: bytes, folder: str = "") -> None:
        """Put a message in the mailbox the way an MTA would (tmp/ then new/)."""
        base = self.maildir / f".{folder}" if folder else self.maildir
        for part in ("tmp", "new", "cur"):
            (base / part).mkdir(parents=True, exist_ok=True)
            os.chmod(base / part, 0o777)  # noqa: S103 - dovecot's own user writes here
        name = f"{time.time():.6f}.{uuid.uuid4().hex}.crm-test"
        temporary = base / "tmp" / name
        temporary.write_bytes(raw)
        os.chmod(temporary, 0o666)  # noqa: S103 - and renames this
        temporary.rename(base / "new" / name)

    def empty(self) -> None:
        """A fresh mailbox (a new UIDVALIDITY, as after a rebuild on the server)."""
        # Dovecot's UIDVALIDITY is the time in seconds: wait for the next second.
        time.sleep(1.05 - time.time() % 1)
        shutil.rmtree(self.maildir, ignore_errors=True)
        self.maildir.mkdir(parents=True)
        os.chmod(self.maildir, 0o777)  # noqa: S103 - dovecot's own user writes here


def _config(root: Path, port: int, passwd: Path) -> str:
    if os.geteuid() == 0:
        # Dovecot's login and auth processes refuse to run as root.
        internal, internal_group, login = "dovecot", "dovecot", "dovenull"
    else:
        internal = login = pwd.getpwuid(os.geteuid()).pw_name
        internal_group = grp.getgrgid(os.getegid()).gr_name
    return f"""
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
instance_name = crm-test-{port}
log_path = {root}/dovecot.log
ssl = no
auth_mechanisms = plain login
disable_plaintext_auth = no
default_internal_user = {internal}
default_internal_group = {internal_group}
default_login_user = {login}
mail_location = maildir:~/Maildir
# The mail user is a system account (dovecot's own, under root), below the usual 500.
first_valid_uid = 1
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {passwd}
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {passwd}
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
service stats {{
  unix_listener stats-reader {{
    user = {internal}
    mode = 0666
  }}
  unix_listener stats-writer {{
    user = {internal}
    mode = 0666
  }}
}}
"""


@contextlib.contextmanager
def imap_server(root: Path) -> Iterator[ImapServer]:
    """Dovecot on a free loopback port, serving one user's Maildir under `root`."""
    port = free_port()
    if os.geteuid() == 0:
        owner = pwd.getpwnam("dovecot")
        uid, gid = owner.pw_uid, owner.pw_gid
    else:
        uid, gid = os.geteuid(), os.getegid()
    home = root / "home" / "sales"
    server = ImapServer(
        port=port, username="sales@acme.example", password="imap-secret-42", home=home, uid=uid, gid=gid
    )
    for folder in (root / "run", root / "state", home):
        folder.mkdir(parents=True, exist_ok=True)
    os.chmod(root / "home", 0o777)  # noqa: S103 - dovecot's own user writes here
    os.chmod(home, 0o777)  # noqa: S103
    server.empty()
    passwd = root / "passwd"
    passwd.write_text(f"{server.username}:{{PLAIN}}{server.password}:{uid}:{gid}::{home}::\n")
    os.chmod(passwd, 0o644)
    config = root / "dovecot.conf"
    config.write_text(_config(root, port, passwd))
    log = (root / "dovecot.out").open("w")
    process = subprocess.Popen([str(DOVECOT), "-F", "-c", str(config)], stdout=log, stderr=subprocess.STDOUT)
    try:
        if not wait_for(lambda: port_answers(port), timeout=20):
            raise RuntimeError((root / "dovecot.out").read_text() + (root / "dovecot.log").read_text())
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def raw_message(
    *,
    sender: str = "Ivan Petrov <ivan@client.example>",
    to: str = "sales@acme.example",
    subject: str = "Question about the offer",
    body: str = "Hello, what is the delivery time?",
    message_id: str | None = None,
    headers: str = "",
) -> bytes:
    message_id = message_id or f"<{uuid.uuid4().hex}@client.example>"
    text = (
        f"From: {sender}\r\nTo: {to}\r\nSubject: {subject}\r\nMessage-ID: {message_id}\r\n"
        f"Date: Mon, 07 Dec 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\n{headers}"
        f"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{body}\r\n"
    )
    return text.encode()
