"""Real headless Chromium (Debian's, driven by Playwright) against a real gunicorn.

- The server is a separate gunicorn process on a free loopback port, on the test
  database: it sees committed data only, so browser tests use `committed_db` and
  create what they need through the services.
- Each session gets a workspace of its own (`browser_tenant`, made by the real signup
  and deleted at the end), so nothing a browser does touches Acme or Globex.
- Chromium resolves `<slug>.localhost` to loopback by itself: no hosts file.
- No browser download: `make browser-deps` installs Debian's chromium as root; without
  it these tests are skipped with that instruction.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection, connections

from tests.conftest import PASSWORD, inside
from tests.processes import free_port, shared_database_url

CHROMIUM = Path("/usr/bin/chromium")
ADMIN_EMAIL = "ada@browser.example"
SERVER_APPLICATION_NAME = "crm-browser-test-server"


@dataclass(frozen=True)
class LiveSite:
    port: int
    tenant: object

    def url(self, path: str = "/") -> str:
        return f"http://{self.tenant.slug}.localhost:{self.port}{path}"


def _wait_until_serving(port: int, process: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the web server stopped (exit {process.returncode})")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError("the web server did not start")


def _wait_for_server_connections_to_end(timeout: float = 15) -> None:
    """A stopped server's database sessions end a moment after it exits; the test
    database can only be dropped once they have."""
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = %s",
                [SERVER_APPLICATION_NAME],
            )
            if cursor.fetchone()[0] == 0:
                return
            time.sleep(0.1)


@pytest.fixture(scope="session")
def browser_tenant(django_db_setup, django_db_blocker):
    """A workspace of the browser tests' own (committed), removed at the end."""
    from tenants.services import SignupRequest, tenant_delete, tenant_signup

    with django_db_blocker.unblock():
        tenant = tenant_signup(
            request=SignupRequest(
                company_name="Browser Test Co",
                slug="browser",
                admin_name="Ada Admin",
                admin_email=ADMIN_EMAIL,
                admin_password=PASSWORD,
                plan="business",
            )
        )
        connection.set_schema_to_public()
    yield tenant
    with django_db_blocker.unblock():
        connection.set_schema_to_public()
        tenant_delete(tenant=tenant)


@pytest.fixture(scope="session")
def live_site(browser_tenant, tmp_path_factory, django_db_blocker) -> Iterator[LiveSite]:
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is missing: run `make browser-deps` (as root)")
    port = free_port()
    log = tmp_path_factory.mktemp("server") / "gunicorn.log"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.browser.server_settings",
        "DATABASE_URL": shared_database_url(f"application_name={SERVER_APPLICATION_NAME}"),
        "DEBUG": "1",
        "BASE_DOMAIN": f"localhost:{port}",
        "LOG_LEVEL": "WARNING",
        "CONN_MAX_AGE": "0",
    }
    command = [
        sys.executable, "-m", "gunicorn", "config.wsgi:application",
        "--bind", f"127.0.0.1:{port}", "--workers", "2", "--threads", "4", "--timeout", "60",
    ]  # fmt: skip
    with log.open("w") as output:
        process = subprocess.Popen(command, cwd=settings.BASE_DIR, env=env, stdout=output, stderr=subprocess.STDOUT)
    try:
        _wait_until_serving(port, process)
        yield LiveSite(port=port, tenant=browser_tenant)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        with django_db_blocker.unblock():
            _wait_for_server_connections_to_end()


@pytest.fixture(scope="module")
def chromium_browser(live_site):
    """Per module, not per session: while Playwright runs, this thread has a running
    asyncio loop, and Django refuses ORM calls from every later test of the session."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture(autouse=True)
def _orm_beside_playwright(monkeypatch):
    """Playwright's sync API keeps an asyncio loop on this thread; Django then refuses
    ORM calls (fixtures creating data) as if they came from async code. They do not:
    everything here is synchronous. Per test only, so nothing else (such as
    `check --deploy`, which refuses this variable) ever sees it."""
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def page(chromium_browser, live_site):
    context = chromium_browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def inside_browser_tenant(committed_db, browser_tenant) -> Iterator:
    """Run code in the browser workspace's schema, committed (clean up yourself).

    Under Playwright's sync API the test may run in another greenlet, whose context
    gets a database connection of its own: closed here, or the test database could not
    be dropped at the end of the session.
    """
    with inside(browser_tenant):
        yield browser_tenant
    connections.close_all()


def sign_in(page, site: LiveSite, email: str = ADMIN_EMAIL, password: str = PASSWORD) -> None:
    page.goto(site.url("/login/"))
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(site.url("/"))
