from django.core.management.base import BaseCommand, CommandError

from tenants.models import Tenant
from tenants.services import tenant_delete


class Command(BaseCommand):
    help = "Delete a workspace with its schema and all its data. Irreversible."

    def add_arguments(self, parser) -> None:
        parser.add_argument("slug")
        parser.add_argument("--yes", action="store_true", help="Do not ask for confirmation.")

    def handle(self, *args, slug: str, yes: bool, **options) -> None:
        tenant = Tenant.objects.exclude(schema_name="public").filter(slug=slug).first()
        if tenant is None:
            raise CommandError(f"No workspace {slug!r}.")
        if not yes and input(f"Type {slug} to delete it with all its data: ") != slug:
            raise CommandError("Not confirmed; nothing deleted.")
        tenant_delete(tenant=tenant)
        self.stdout.write(f"Deleted {slug}.")
