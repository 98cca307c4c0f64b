"""Property-based fuzzing of the live API: zero server errors, answers that match the schema.

A real gunicorn (2 workers) serves the real project against the test database; a
workspace of its own ("fuzz") is created for it, committed, and deleted afterwards.
Schemathesis reads the OpenAPI document the server publishes and sends generated
requests to every operation (FUZZ_EXAMPLES per operation, 6 by default; `make fuzz` sends
more). Checks: no 5xx, the documented response schema and content type.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest
import requests
import schemathesis
from django.conf import settings
from django.db import connection
from hypothesis import HealthCheck, Phase
from hypothesis import settings as hypothesis_settings
from schemathesis import GenerationConfig
from schemathesis.checks import content_type_conformance, not_a_server_error, response_schema_conformance

from tests.processes import free_port, shared_database_url

FUZZ_HOST = "fuzz.localhost"
FUZZ_EMAIL = "fuzzer@fuzz.example"
FUZZ_PASSWORD = "fuzzing-Correct-horse-42"
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "6"))
# Operations that end the fuzzer's own session or strip its powers; tested by example elsewhere.
SELF_DESTRUCTIVE = r"/auth/logout/|/revoke/|/release/"

pytestmark = pytest.mark.fuzz


class FuzzSession:
    """The live server's address and a token that is renewed if a generated call ended it."""

    def __init__(self, base_url: str):
        self.base_url = base_url
        self.token = ""
        self.sign_in()

    def sign_in(self) -> None:
        response = requests.post(
            f"{self.base_url}/api/v1/auth/token/",
            json={"email": FUZZ_EMAIL, "password": FUZZ_PASSWORD},
            headers={"Host": f"{FUZZ_HOST}:8000"},
            timeout=30,
        )
        assert response.status_code == 200, response.text
        self.token = response.json()["token"]

    @property
    def headers(self) -> dict[str, str]:
        return {"Host": f"{FUZZ_HOST}:8000", "Authorization": f"Bearer {self.token}"}


@pytest.fixture(scope="module")
def fuzz_session(django_db_setup, django_db_blocker, tmp_path_factory):
    with django_db_blocker.unblock():
        connection.set_schema_to_public()
        yield from _live_fuzz_server(media_root=tmp_path_factory.mktemp("fuzz-media"))


def _live_fuzz_server(*, media_root: Path):
    from tenants.models import Plan, Tenant
    from tenants.services import SignupRequest, tenant_delete, tenant_signup

    plan = Plan.objects.create(
        code="fuzz",
        name="Fuzz",
        named_seats=20,
        concurrent_seats=20,
        max_storage_mb=1000,
        api_requests_per_minute=1_000_000,
        max_integration_tokens=5,
        backup_retention_days=7,
        price_per_seat=Decimal("1"),
    )
    tenant = tenant_signup(
        request=SignupRequest(
            company_name="Fuzz Ltd",
            slug="fuzz",
            admin_name="Fuzzy Admin",
            admin_email=FUZZ_EMAIL,
            admin_password=FUZZ_PASSWORD,
            plan="fuzz",
        )
    )
    # The test process hashes with MD5 for speed; the server only knows the real hashers.
    from django.contrib.auth.hashers import Argon2PasswordHasher

    from accounts.models import User

    connection.set_tenant(tenant)
    hasher = Argon2PasswordHasher()
    User.objects.filter(email=FUZZ_EMAIL).update(password=hasher.encode(FUZZ_PASSWORD, hasher.salt()))
    connection.set_schema_to_public()
    port = free_port()
    log = Path(settings.BASE_DIR) / ".data" / "fuzz-gunicorn.log"
    log.parent.mkdir(exist_ok=True)
    env = {
        **os.environ,
        "DATABASE_URL": shared_database_url(),
        "DEBUG": "true",
        "CELERY_TASK_ALWAYS_EAGER": "false",
        # Files the fuzzer uploads go to a temporary folder, not the developer's media.
        "MEDIA_ROOT": str(media_root),
    }
    with log.open("wb") as output:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "config.wsgi", "-b", f"127.0.0.1:{port}", "-w", "2", "--timeout", "60"],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"{base_url}/healthz", timeout=10).status_code in (200, 503):
                    break
            except (requests.ConnectionError, requests.Timeout):
                pass
            assert server.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, "gunicorn did not start"
            time.sleep(0.3)
        yield FuzzSession(base_url)
    finally:
        server.terminate()
        server.wait(timeout=30)
        connection.set_schema_to_public()
        tenant_delete(tenant=Tenant.objects.get(pk=tenant.pk))
        plan.delete()
        errors = [line for line in log.read_text(errors="replace").splitlines() if "Traceback" in line]
        assert not errors, "the server logged tracebacks; see .data/fuzz-gunicorn.log"


@pytest.fixture(scope="module")
def fuzz_schema(fuzz_session):
    return schemathesis.from_uri(
        f"{fuzz_session.base_url}/api/v1/schema/?format=json",
        base_url=fuzz_session.base_url,
        headers=fuzz_session.headers,
        # Our token is sent as is; generated Authorization/Cookie values would only test gunicorn.
        generation_config=GenerationConfig(with_security_parameters=False),
    ).exclude(path_regex=SELF_DESTRUCTIVE)


schema = schemathesis.from_pytest_fixture("fuzz_schema")


@schema.parametrize()
@hypothesis_settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_api_answers_every_generated_request_without_server_error(case, fuzz_session):
    response = case.call(headers=fuzz_session.headers, timeout=60)
    if response.status_code == 401 and "/auth/token/" not in case.path:
        # A generated call (a seat change, a token revoked by id) ended our session: renew it.
        fuzz_session.sign_in()
        response = case.call(headers=fuzz_session.headers, timeout=60)
    case.validate_response(response, checks=(not_a_server_error, response_schema_conformance, content_type_conformance))
