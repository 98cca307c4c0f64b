"""Make Django's own tables use 64-bit keys too (ARCHITECTURE.md, decision 5).

contrib.auth and contrib.contenttypes declare 32-bit AutoFields. Citus schema-based
sharding fails on narrower sequences and a 32-bit key can run out, so every integer
primary key in the schema being migrated, every column referencing one, and their
identity sequences become bigint. Runs in the public schema and in each tenant schema.
"""

from django.db import migrations

FIND_INTEGER_KEYS = """
WITH integer_pks AS (
    SELECT c.conrelid AS table_oid, c.conkey[1] AS attnum
    FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
    WHERE c.contype = 'p' AND n.nspname = current_schema() AND array_length(c.conkey, 1) = 1
), referencing AS (
    SELECT c.conrelid AS table_oid, c.conkey[1] AS attnum
    FROM pg_constraint c
    JOIN integer_pks p ON p.table_oid = c.confrelid AND p.attnum = c.confkey[1]
    WHERE c.contype = 'f'
)
SELECT DISTINCT cls.relname, att.attname
FROM (SELECT * FROM integer_pks UNION SELECT * FROM referencing) k
JOIN pg_class cls ON cls.oid = k.table_oid
JOIN pg_attribute att ON att.attrelid = k.table_oid AND att.attnum = k.attnum
WHERE att.atttypid = 'int4'::regtype
ORDER BY 1, 2
"""


def widen(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(FIND_INTEGER_KEYS)
        columns = cursor.fetchall()
        for table, column in columns:
            cursor.execute(f'ALTER TABLE "{table}" ALTER COLUMN "{column}" TYPE bigint')
        cursor.execute(
            "SELECT s.relname FROM pg_class s JOIN pg_namespace n ON n.oid = s.relnamespace "
            "JOIN pg_sequence q ON q.seqrelid = s.oid "
            "WHERE n.nspname = current_schema() AND q.seqtypid = 'int4'::regtype"
        )
        for (sequence,) in cursor.fetchall():
            cursor.execute(f'ALTER SEQUENCE "{sequence}" AS bigint')


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("sessions", "0001_initial"),
        ("admin", "0003_logentry_add_action_flag_choices"),
    ]
    operations = [migrations.RunPython(widen, migrations.RunPython.noop)]
