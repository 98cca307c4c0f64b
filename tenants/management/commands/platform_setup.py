"""Bring a database up to date: the one command run by `make run` and by every deploy.

Idempotent: migrates the public schema and every tenant, creates the cache table,
ensures the public host, and re-captures the tenant template when migrations changed.
"""

from django.core.management import call_command
from django.core.management.base import BaseCommand

from tenants import schema_template
from tenants.models import Tenant
from tenants.services import public_tenant_ensure


class Command(BaseCommand):
    help = "Migrate public and tenant schemas, ensure the public host and the tenant template."

    def handle(self, *args, **options) -> None:
        verbosity = options["verbosity"]
        call_command("migrate_schemas", shared=True, interactive=False, verbosity=max(verbosity - 1, 0))
        call_command("createcachetable", verbosity=max(verbosity - 1, 0))
        public_tenant_ensure()
        # Only schemas behind the code's migrations are migrated: one query finds them,
        # instead of a migrate run (seconds each) for every tenant on every deploy.
        current = schema_template.migrations_fingerprint()
        behind = Tenant.objects.exclude(schema_name="public").exclude(schema_fingerprint=current)
        # A list, not an iterator: each migrate run commits and closes the connection.
        for schema_name in list(behind.values_list("schema_name", flat=True)):
            call_command(
                "migrate_schemas",
                tenant=True,
                schema_name=schema_name,
                interactive=False,
                verbosity=max(verbosity - 1, 0),
            )
            Tenant.objects.filter(schema_name=schema_name).update(schema_fingerprint=current)
        if schema_template.template_is_current():
            self.stdout.write("Tenant template is current.")
        else:
            template = schema_template.template_build()
            self.stdout.write(f"Captured the tenant template: {template.statement_count} statements.")
