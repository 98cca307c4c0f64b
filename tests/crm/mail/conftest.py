"""Mail tests: files go to a temporary MEDIA_ROOT; real SMTP and IMAP servers on loopback."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from accounts import roles
from accounts.models import User
from tests.crm.attachments.conftest import media_root_set, member
from tests.crm.mail.servers import DOVECOT, imap_server, smtp_server


@pytest.fixture(autouse=True)
def media(settings, tmp_path) -> Path:
    return media_root_set(settings, tmp_path / "media")


@pytest.fixture
def smtp():
    with smtp_server() as server:
        yield server


@pytest.fixture
def smtp_with_login():
    with smtp_server(username="sales@acme.example", password="smtp-secret-42") as server:
        yield server


@pytest.fixture(scope="session")
def dovecot():
    if not DOVECOT.exists():
        pytest.skip("Debian's dovecot is missing: run `make mail-deps` (as root)")
    # Not pytest's tmp_path: its folders are private to us, and dovecot's own processes
    # (running as the dovecot user under root) must read the passwd file and Maildir.
    root = Path(tempfile.mkdtemp(prefix="crm-dovecot-"))
    os.chmod(root, 0o755)  # noqa: S103 - readable by dovecot's processes
    try:
        with imap_server(root) as server:
            yield server
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def imap(dovecot):
    """The session's dovecot with an empty mailbox."""
    dovecot.empty()
    return dovecot


@pytest.fixture
def rex(acme) -> User:
    return member("rex@acme.example", roles.SALES_REP)


@pytest.fixture
def rita(acme) -> User:
    return member("rita@acme.example", roles.SALES_REP)


def workspace_mailbox(server, **overrides):
    """The workspace's shared mailbox, sending through `server` (aiosmtpd)."""
    from crm.mail.services import mail_account_save

    values = {
        "from_address": "sales@acme.example",
        "from_name": "Acme Sales",
        "smtp_host": "127.0.0.1",
        "smtp_port": server.port,
        "smtp_security": "none",
        "smtp_username": server.username,
        "smtp_password": server.password or None,
        **overrides,
    }
    return mail_account_save(actor=None, owner=None, **values)


def deliver_now(message):
    """What the send task does for one message, here and now (the Celery path has its
    own tests with a real worker)."""
    from crm.mail.delivery import deliver
    from crm.mail.services import tracking_base

    outcome = deliver(message_id=message.pk, tracking_base=tracking_base(), last_attempt=False)
    message.refresh_from_db()
    return outcome
