"""Extensions are per database: create them once, in public, where every tenant's
search_path (`<schema>, public`) finds their operator classes."""

from django.db import migrations


def create_extensions(apps, schema_editor):
    if schema_editor.connection.schema_name != "public":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public")


class Migration(migrations.Migration):
    dependencies = [("tenants", "0003_tenant_usage")]
    operations = [migrations.RunPython(create_extensions, migrations.RunPython.noop)]
