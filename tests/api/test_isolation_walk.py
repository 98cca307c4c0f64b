"""Every URL pattern of the tenant API, walked with another workspace's credentials.

Globex (tenant B) is filled with demo data; its own token reads each list to learn real
ids. Then Acme's (tenant A's) token calls every pattern and every method on Globex's host
with those ids: only 401 may come back. And on Acme's own host with Globex's ids, no answer
may carry a Globex record.
"""

from __future__ import annotations

import json
import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from tests.api.conftest import ApiClient, sign_in
from tests.conftest import ALICE_EMAIL, BOB_EMAIL, inside
from tests.crm.attachments.conftest import media_root_set

# Documentation of the API itself, the same for every workspace.
PUBLIC_PATTERNS = {"api/v1/schema/", "api/v1/docs/"}
# Signing in needs no token: Alice's password on Globex's host is tested on its own below.
SIGN_IN = "api/v1/auth/token/"
PARAMETER = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>|\(\?P<(?P<rname>[^>]+)>[^)]+\)")


def api_patterns() -> list[tuple[str, URLPattern]]:
    """(route, pattern) for every endpoint under api/v1/ of the tenant URLconf."""
    found: list[tuple[str, URLPattern]] = []

    def walk(patterns, prefix: str) -> None:
        for entry in patterns:
            route = prefix + str(entry.pattern).lstrip("^").replace("\\Z", "").rstrip("$")
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, route)
            elif route.startswith("api/v1/"):
                found.append((route, entry))

    walk(get_resolver("config.urls_tenant").url_patterns, "")
    return [(route, entry) for route, entry in found if "format" not in route]


def methods_of(pattern: URLPattern) -> list[str]:
    view = pattern.callback
    actions = getattr(view, "actions", None)
    if actions:
        return sorted(method.upper() for method in actions)
    view_class = getattr(view, "view_class", None) or getattr(view, "cls", None)
    return sorted(method.upper() for method in ("get", "post", "patch", "put", "delete") if hasattr(view_class, method))


def basename_of(pattern: URLPattern) -> str:
    return (pattern.name or "").rsplit("-", 1)[0]


def concrete(route: str, ids: dict[str, int], fallback: int) -> str:
    def fill(match: re.Match) -> str:
        name = match.group("name") or match.group("rname")
        if match.group("converter") == "str" or name in ("kind",):
            return "contact"
        return str(ids.get(name, fallback))

    return "/" + PARAMETER.sub(fill, route)


def globex_records_create() -> None:
    """One record of every kind, through the services, as Globex's system would."""
    from datetime import timedelta

    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.utils import timezone

    from crm.activities.services import note_add, task_create
    from crm.attachments.services import attachment_upload
    from crm.catalog.services import product_create, quote_create, quote_line_add
    from crm.clients.services import company_create, contact_create
    from crm.custom_fields.services import custom_field_create
    from crm.deals.services import deal_create
    from crm.imports.services import import_template_save, import_upload
    from crm.leads.services import lead_create
    from crm.tags import tag_get_or_create

    custom_field_create(actor=None, entity="contact", label="Globex secret field", kind="text")
    company = company_create(actor=None, name="Globex Secret Holdings")
    contact = contact_create(actor=None, first_name="Hank", last_name="Scorpio", company=company)
    lead = lead_create(actor=None, name="Globex Secret Lead", phone="+14155550100")
    deal = deal_create(actor=None, title="Globex Secret Deal", contact=contact, company=company)
    task_create(actor=None, title="Globex secret task", due_at=timezone.now() + timedelta(days=1), owner=None)
    note_add(actor=None, body="Globex secret note", contact=contact, lead=None)
    product = product_create(actor=None, sku="GLX-1", name="Globex doomsday device", price="100")
    quote = quote_create(actor=None, title="Globex secret quote", deal=deal)
    quote_line_add(actor=None, quote=quote, product=product, quantity=1)
    tag_get_or_create(actor=None, name="globex-secret")
    attachment_upload(actor=None, record=contact, file=SimpleUploadedFile("globex-secret.pdf", b"globex secret"))
    from crm.mail.services import OutgoingFile, email_send, email_template_create, mail_account_save

    email_send(
        actor=None, to="hank@globex-client.example", subject="Globex secret mail", body="x", record=contact,
        files=[OutgoingFile(name="globex-secret.txt", data=b"globex secret")],
    )  # fmt: skip
    email_template_create(actor=None, name="Globex secret template", body="secret")
    mail_account_save(actor=None, owner=None, from_address="secret@globex.example", smtp_host="smtp.globex.example")
    job = import_upload(actor=None, entity="contact", file=SimpleUploadedFile("globex-secret.csv", b"Name\nHank\n"))
    import_template_save(actor=None, job=job, name="Globex secret template")
    assert lead.pk


@pytest.fixture
def globex_world(tenant_b, settings, tmp_path):
    """Globex with demo data, and the first id of each list as Globex sees it."""
    media_root_set(settings, tmp_path / "media")
    with inside(tenant_b):
        globex_records_create()
    bob = sign_in("globex.localhost:8000", BOB_EMAIL)
    first_ids: dict[str, int] = {}
    bodies: dict[str, str] = {}
    for route, pattern in api_patterns():
        if "<" in route or "(?P" in route or "GET" not in methods_of(pattern) or not pattern.name:
            continue
        response = bob.get("/" + route)
        if response.status_code != 200 or not response.get("Content-Type", "").startswith("application/json"):
            continue
        results = response.json().get("results") if isinstance(response.json(), dict) else None
        if results and isinstance(results[0], dict) and "id" in results[0]:
            first_ids[basename_of(pattern)] = results[0]["id"]
            detail = bob.get(f"/{route}{results[0]['id']}/")
            if detail.status_code == 200:
                bodies[basename_of(pattern)] = json.dumps(detail.json(), sort_keys=True)
    expected = {"contact", "company", "attachment", "email", "email-template", "mail-account", "custom-field"}
    expected |= {"import", "import-template"}
    assert expected <= set(first_ids), first_ids
    return first_ids, bodies


def test_every_api_pattern_is_walked():
    routes = [route for route, _ in api_patterns()]
    assert "api/v1/contacts/" in routes
    assert any("contacts/(?P<pk>" in route or "contacts/<pk>" in route for route in routes), routes
    assert len(routes) >= 10


def test_another_workspaces_token_gets_401_on_every_pattern(globex_world, api_a):
    first_ids, _bodies = globex_world
    acme_token_on_globex = ApiClient("globex.localhost:8000", api_a.token)
    walked = 0
    for route, pattern in api_patterns():
        if route in PUBLIC_PATTERNS or route == SIGN_IN:
            continue
        path = concrete(route, {"pk": first_ids.get(basename_of(pattern), 1)}, first_ids.get("contact", 1))
        for method in methods_of(pattern):
            response = getattr(acme_token_on_globex, method.lower())(path, {})
            walked += 1
            assert response.status_code in (401, 404), (method, path, response.status_code, response.content[:300])
            if response.status_code == 401 and method != "HEAD":
                assert b'"not_authenticated"' in response.content, (method, path, response.content[:200])
    assert walked >= 20


def test_no_credentials_get_401_on_every_pattern(tenant_b):
    anonymous = ApiClient("globex.localhost:8000")
    for route, pattern in api_patterns():
        if route in PUBLIC_PATTERNS or route == SIGN_IN:
            continue
        path = concrete(route, {}, 1)
        for method in methods_of(pattern):
            response = getattr(anonymous, method.lower())(path, {})
            assert response.status_code in (401, 404), (method, path, response.status_code)


def test_acme_token_with_globex_ids_never_returns_a_globex_record(globex_world, api_a):
    first_ids, bodies = globex_world
    for route, pattern in api_patterns():
        basename = basename_of(pattern)
        if basename not in bodies or "GET" not in methods_of(pattern) or pattern.name != f"{basename}-detail":
            continue
        response = api_a.get(concrete(route, {"pk": first_ids[basename]}, 1))
        if response.status_code == 200:
            assert json.dumps(response.json(), sort_keys=True) != bodies[basename], route
        else:
            assert response.status_code == 404, (route, response.status_code)


def test_alices_password_does_not_open_globex(tenant_b):
    response = ApiClient("globex.localhost:8000").post(
        "/api/v1/auth/token/", {"email": ALICE_EMAIL, "password": "correct-horse-battery-9"}
    )
    assert response.status_code == 401
