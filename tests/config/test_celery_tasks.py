"""Tenant-aware Celery tasks, run by a real worker process over the real broker."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from django_tenants.utils import schema_context

from config.celery import MissingTenant
from tenants.models import Tenant
from tenants.tasks import workspace_usage_refresh, workspace_usage_refresh_all
from tests.processes import celery_worker, wait_for


@pytest.fixture(scope="module")
def worker(django_db_setup, tmp_path_factory) -> Iterator[Path]:
    """A real `celery worker` on the test database and the test broker; yields its log file."""
    log_file = tmp_path_factory.mktemp("worker") / "worker.log"
    with celery_worker(log_file):
        yield log_file


def refreshed_at(slug: str):
    return Tenant.objects.get(slug=slug).usage_refreshed_at


@pytest.mark.slow
def test_worker_runs_a_tenant_task_in_the_tenant_it_was_sent_from(committed_db, worker):
    Tenant.objects.filter(slug__in=["acme", "globex"]).update(usage_refreshed_at=None, usage_active_users=0)

    with schema_context("t_acme"):
        workspace_usage_refresh.delay()

    assert wait_for(lambda: refreshed_at("acme") is not None), worker.read_text()
    assert Tenant.objects.get(slug="acme").usage_active_users == 1
    assert refreshed_at("globex") is None


@pytest.mark.slow
def test_worker_refuses_a_tenant_task_sent_without_a_tenant(committed_db, worker):
    task_id = workspace_usage_refresh.apply_async(headers={"_schema_name": "public"}).id

    assert wait_for(lambda: f"{task_id}] raised unexpected: MissingTenant" in worker.read_text()), worker.read_text()


@pytest.mark.slow
def test_worker_refuses_a_task_for_a_tenant_that_no_longer_exists(committed_db, worker):
    # Celery logs and swallows the failed schema switch, then would run the task in public:
    # the TenantTask guard is what stops it.
    task_id = workspace_usage_refresh.apply_async(headers={"_schema_name": "t_deleted_long_ago"}).id

    assert wait_for(lambda: f"{task_id}] raised unexpected: MissingTenant" in worker.read_text()), worker.read_text()
    assert "DoesNotExist('Tenant matching query does not exist.')" in worker.read_text()


@pytest.mark.slow
def test_fan_out_queues_one_refresh_per_tenant(committed_db, worker, settings):
    settings.TENANT_FANOUT_SPREAD_SECONDS = 0
    Tenant.objects.filter(slug__in=["acme", "globex"]).update(usage_refreshed_at=None)

    queued = workspace_usage_refresh_all.apply().get()

    assert queued == Tenant.objects.exclude(schema_name="public").count()
    assert wait_for(lambda: refreshed_at("acme") is not None and refreshed_at("globex") is not None)


def test_tenant_task_run_in_public_raises_instead_of_touching_public(db):
    result = workspace_usage_refresh.apply()

    assert isinstance(result.result, MissingTenant)
