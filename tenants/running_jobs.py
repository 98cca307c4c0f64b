"""Which workspaces have a background job in flight, kept in the public schema.

A sweep that takes over jobs whose worker died (imports) must not visit every tenant
schema every few minutes: at ten thousand workspaces that is ten thousand schema switches
and queries on one connection, and the connection then caches every schema's catalog
entries (ARCHITECTURE.md, "known traps"). Jobs note themselves here when they start and
forget themselves when they end, in the same transaction as their own status, so the
sweep reads one small public table and visits only the schemas named in it.
"""

from __future__ import annotations

from collections import defaultdict

from tenants.models import RunningJob
from tenants.selectors import tenant_current


def running_job_note(*, kind: str, job_id: int) -> None:
    """Note that the current workspace's job `job_id` of `kind` is in flight (idempotent)."""
    tenant = tenant_current()
    if tenant is None:
        raise ValueError("no workspace is active")
    RunningJob.objects.get_or_create(tenant_id=tenant.pk, kind=kind, job_id=job_id)


def running_job_forget(*, kind: str, job_id: int, tenant_id: int | None = None) -> None:
    """The job ended (done, failed, cancelled or undone): the sweep needn't visit for it."""
    if tenant_id is None:
        tenant = tenant_current()
        if tenant is None:
            return
        tenant_id = tenant.pk
    RunningJob.objects.filter(tenant_id=tenant_id, kind=kind, job_id=job_id).delete()


def running_jobs(kind: str) -> dict[tuple[int, str], list[int]]:
    """(tenant id, schema name) → the ids of its jobs of `kind` in flight, in one query."""
    found: dict[tuple[int, str], list[int]] = defaultdict(list)
    rows = RunningJob.objects.filter(kind=kind).order_by("tenant_id", "job_id")
    for tenant_id, schema_name, job_id in rows.values_list("tenant_id", "tenant__schema_name", "job_id"):
        found[(tenant_id, schema_name)].append(job_id)
    return dict(found)
