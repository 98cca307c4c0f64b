from decimal import Decimal

from django.db import migrations

PLANS = [
    dict(code="free", name="Free", description="For a founder and a first sales person.", named_seats=2,
         concurrent_seats=0, max_contacts=1000, max_storage_mb=500, api_requests_per_minute=60, max_lead_forms=1,
         max_pipelines=1, max_integration_tokens=0, backup_frequency="weekly", backup_retention_days=7,
         manual_backups_per_day=1, price_per_seat=Decimal("0"), trial_days=0, grace_days=7, sort_order=10,
         features=["lead_forms", "pipeline", "reports_basic"]),
    dict(code="team", name="Team", description="For a sales team with people in the field.", named_seats=10,
         concurrent_seats=5, max_contacts=50000, max_storage_mb=10240, api_requests_per_minute=300, max_lead_forms=10,
         max_pipelines=5, max_integration_tokens=5, backup_frequency="daily", backup_retention_days=30,
         manual_backups_per_day=3, price_per_seat=Decimal("25.00"), trial_days=14, grace_days=7, sort_order=20,
         features=["lead_forms", "pipeline", "reports_basic", "reports_advanced", "api", "webhooks"]),
    dict(code="business", name="Business", description="For companies with several teams and processes.",
         named_seats=50, concurrent_seats=25, max_contacts=None, max_storage_mb=102400, api_requests_per_minute=1200,
         max_lead_forms=None, max_pipelines=None, max_integration_tokens=25, backup_frequency="daily",
         backup_retention_days=90, manual_backups_per_day=10, price_per_seat=Decimal("49.00"), trial_days=14,
         grace_days=14, sort_order=30,
         features=["lead_forms", "pipeline", "reports_basic", "reports_advanced", "api", "webhooks", "sandbox_restore"]),
]


def seed_plans(apps, schema_editor):
    if schema_editor.connection.schema_name != "public":
        return
    Plan = apps.get_model("tenants", "Plan")
    for plan in PLANS:
        Plan.objects.update_or_create(code=plan["code"], defaults=plan)


class Migration(migrations.Migration):
    dependencies = [("tenants", "0001_initial")]
    operations = [migrations.RunPython(seed_plans, migrations.RunPython.noop)]
