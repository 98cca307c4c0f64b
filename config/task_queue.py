"""Side effects queued by name when the change that caused them commits.

Services call `task_after_commit("crm.imports.tasks.import_run", job_id=...)` instead of
importing the task: the service stays free of Celery, a rolled-back change queues
nothing, and the message carries the current tenant's schema (tenant_schemas_celery
adds it to every message the app sends).
"""

from __future__ import annotations

from typing import Any

from django.db import transaction


def task_after_commit(name: str, *, countdown: float | None = None, **kwargs: Any) -> None:
    """Queue the task called `name` with `kwargs` once the current transaction commits
    (at once outside a transaction); a broker that is down is logged, not raised."""
    from config.celery import app

    options: dict[str, Any] = {"kwargs": kwargs}
    if countdown is not None:
        options["countdown"] = countdown
    transaction.on_commit(lambda: app.send_task(name, **options), robust=True)
