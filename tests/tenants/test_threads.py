from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from django.db import connections

from accounts.models import User
from tenants.threads import bound_to_current_tenant
from tests.conftest import ALICE_EMAIL, inside


def emails() -> list[str]:
    try:
        return list(User.objects.values_list("email", flat=True))
    finally:
        connections.close_all()


def test_work_sent_to_a_thread_runs_in_the_tenant_it_was_bound_in(committed_db, tenant_a):
    with inside(tenant_a), ThreadPoolExecutor(max_workers=1) as pool:
        bound = pool.submit(bound_to_current_tenant(emails)).result()
        unbound = pool.submit(emails).result()

    assert bound == [ALICE_EMAIL]
    assert ALICE_EMAIL not in unbound, "a bare thread starts on public, never on the caller's tenant"
