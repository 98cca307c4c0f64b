"""The plan's storage limit: exact at the boundary, nothing written on refusal, and two
uploads racing for the last free megabyte never both get in."""

from __future__ import annotations

import secrets
import threading
from decimal import Decimal

import pytest
from django.db import connection, connections
from django.utils import translation

from accounts.models import User
from crm.attachments.models import Attachment
from crm.attachments.selectors import storage_used_bytes
from crm.attachments.services import attachment_upload
from crm.clients.services import contact_create
from crm.limits import MB, PlanLimitReached
from tenants.models import Plan, Tenant
from tenants.services import SignupRequest, tenant_delete, tenant_signup
from tests.conftest import PASSWORD, inside
from tests.crm.attachments.conftest import stored_files, upload


@pytest.fixture
def one_mb_plan(tenant_a):
    """Acme's plan allows 1 MB of files (rolled back with the test's transaction)."""
    Plan.objects.filter(pk=tenant_a.plan_id).update(max_storage_mb=1)
    tenant_a.plan.refresh_from_db()
    return tenant_a


def test_an_upload_that_fills_the_storage_exactly_is_accepted(one_mb_plan, alice, media):
    contact = contact_create(actor=alice, first_name="Peter")
    attachment_upload(actor=alice, record=contact, file=upload(b"a" * (MB - 100)))

    attachment_upload(actor=alice, record=contact, file=upload(b"b" * 100))

    assert storage_used_bytes() == MB
    assert len(stored_files(media)) == 2


def test_one_byte_over_the_storage_is_refused_naming_the_limit_and_writing_nothing(one_mb_plan, alice, media):
    # given a workspace 100 bytes short of its 1 MB
    contact = contact_create(actor=alice, first_name="Peter")
    attachment_upload(actor=alice, record=contact, file=upload(b"a" * (MB - 100)))
    usage_before = Tenant.objects.get(pk=one_mb_plan.pk).usage_storage_bytes

    # when a 101-byte file comes
    with pytest.raises(PlanLimitReached) as refused:
        attachment_upload(actor=alice, record=contact, file=upload(b"b" * 101))

    # then it is refused with the plan limit's code, saying which limit, the use and the way out
    assert refused.value.code == "plan_limit_reached"
    message = refused.value.message
    assert "1 MB of file storage" in message
    assert "1023.9\xa0KB are in use" in message
    assert "needs 101\xa0bytes" in message
    assert "Billing" in message
    # ... and nothing was written: no row, no file, no usage
    assert Attachment.objects.count() == 1
    assert len(stored_files(media)) == 1
    assert Tenant.objects.get(pk=one_mb_plan.pk).usage_storage_bytes == usage_before


def test_the_refusal_speaks_the_readers_language_and_number_format(one_mb_plan, alice):
    contact = contact_create(actor=alice, first_name="Peter")
    attachment_upload(actor=alice, record=contact, file=upload(b"a" * (MB // 2)))

    with translation.override("ru"), pytest.raises(PlanLimitReached) as refused:
        attachment_upload(actor=alice, record=contact, file=upload(b"b" * MB))

    assert "512,0" in refused.value.message
    assert "Billing" not in refused.value.message


# --- racing uploads, on committed data and real connections ------------------------------


@pytest.fixture
def tight_workspace(committed_db, settings, tmp_path):
    """A workspace of its own on a 1 MB plan, with one contact; deleted afterwards."""
    from tests.crm.attachments.conftest import media_root_set

    media = media_root_set(settings, tmp_path / "race-media")
    code = f"tight-{secrets.token_hex(3)}"
    plan = Plan.objects.create(
        code=code,
        name="Tight",
        named_seats=5,
        concurrent_seats=5,
        max_storage_mb=1,
        api_requests_per_minute=1000,
        backup_retention_days=7,
        price_per_seat=Decimal("1"),
    )
    tenant = tenant_signup(
        request=SignupRequest(
            company_name="Tight Ltd",
            slug=code,
            admin_name="Tia Tight",
            admin_email=f"tia@{code}.example",
            admin_password=PASSWORD,
            plan=code,
        )
    )
    with inside(tenant):
        contact = contact_create(actor=None, first_name="Shared", last_name="Client")
    try:
        yield tenant, contact.pk, media
    finally:
        connection.set_schema_to_public()
        tenant_delete(tenant=Tenant.objects.get(pk=tenant.pk))
        plan.delete()


def test_two_uploads_racing_for_the_last_megabyte_do_not_both_succeed(tight_workspace):
    tenant, contact_id, media = tight_workspace
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def upload_600_kb(tag: bytes) -> None:
        try:
            connection.set_tenant(Tenant.objects.select_related("plan").get(pk=tenant.pk))
            from crm.clients.models import Contact

            admin = User.objects.get(email__startswith="tia@")
            contact = Contact.objects.get(pk=contact_id)
            start.wait(timeout=30)
            attachment_upload(actor=admin, record=contact, file=upload(tag * (600 * 1024)))
            outcomes.append("stored")
        except PlanLimitReached:
            outcomes.append("refused")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=upload_600_kb, args=(tag,)) for tag in (b"a", b"b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(outcomes) == ["refused", "stored"]
    with inside(tenant):
        assert Attachment.objects.count() == 1
        assert storage_used_bytes() == 600 * 1024
    assert len(stored_files(media)) == 1
