"""The Celery app. Tasks know which tenant they belong to.

`tenant_schemas_celery` puts the current schema in every message's headers and the
worker switches to it before running the task. On top of that, tasks declared with
`base=TenantTask` refuse to run without a tenant: a message that lost its schema must
fail loudly rather than read or write the public schema.
"""

from __future__ import annotations

import os

from celery.signals import setup_logging, task_prerun
from tenant_schemas_celery.app import CeleryApp
from tenant_schemas_celery.task import TenantTask as SchemaSwitchingTask

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = CeleryApp("crm")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


class MissingTenant(RuntimeError):
    """A tenant task was received without a tenant schema."""


class TenantTask(SchemaSwitchingTask):
    """Base for tasks that act inside one tenant's schema; refuses to run in public."""

    abstract = True

    def __call__(self, *args, **kwargs):
        from django.db import connection
        from django_tenants.utils import get_public_schema_name

        if connection.schema_name == get_public_schema_name():
            raise MissingTenant(f"Task {self.name} needs a tenant schema and none was given.")
        return super().__call__(*args, **kwargs)


@setup_logging.connect
def use_django_logging(**_kwargs) -> None:
    """Keep Django's LOGGING (JSON with tenant and task id) in workers too."""
    from logging.config import dictConfig

    from django.conf import settings

    dictConfig(settings.LOGGING)


@task_prerun.connect
def tag_task_context(task_id=None, task=None, **_kwargs) -> None:
    from django.db import connection

    from config.request_context import bind_request_id
    from config.sentry import tag_tenant

    bind_request_id(task_id or "")
    tag_tenant(connection.schema_name)
