from django.core.management.base import BaseCommand

from billing.services import plans_sync


class Command(BaseCommand):
    help = "Create or update a Stripe product and monthly per-seat plan for every priced plan (idempotent)."

    def handle(self, *args, **options):
        for record in plans_sync():
            self.stdout.write(f"{record.plan.code}: {record.stripe_plan_id} ({record.unit_amount} {record.currency})")
