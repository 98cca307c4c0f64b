"""The per-request seat check as two PL/pgSQL functions (accounts.lease_sql calls them).

Every signed-in request reads its session's seat lease and renews it at most once a
minute. As a statement sent each time, PostgreSQL planned that read-and-renew (a CTE with
an UPDATE) on every request, and planning cost more than running it (bench seats). A
PL/pgSQL function keeps its plans for the connection's life.

They live in the public schema once and have no search_path of their own: the tables
they name are the ones of the workspace the connection serves, as for every other query
of the request, and PostgreSQL re-plans when the connection moves to another workspace.
"""

from django.db import migrations
from django_tenants.utils import get_public_schema_name

# What both functions share: the lease with its idle time and the workspace's idle
# timeout, renewed when last seen more than p_renew_after ago and still held.
LEASE = """
    WITH lease AS (
        SELECT l.id, l.session_key, l.released_at, l.release_reason, now() - l.last_seen_at AS idle_for,
               coalesce((SELECT a.idle_timeout_minutes FROM accounts_accesssettings a WHERE a.id = 1),
                        p_default_idle) AS idle_minutes
        FROM accounts_seatlease l WHERE l.session_key = p_session_key
    ), renewed AS (
        UPDATE accounts_seatlease SET last_seen_at = now() FROM lease
        WHERE accounts_seatlease.id = lease.id AND accounts_seatlease.released_at IS NULL
          AND lease.idle_for > p_renew_after AND lease.idle_for <= make_interval(mins => lease.idle_minutes)
          {live_session}
    )
"""
LEASE_COLUMNS = (
    "lease.id::bigint, lease.released_at, lease.release_reason::text, lease.idle_for, "
    "lease.idle_minutes::integer, now()"
)
LEASE_TABLE = (
    "lease_id bigint, released_at timestamptz, release_reason text, idle_for interval, "
    "idle_minutes integer, db_now timestamptz"
)
# A web session renews its lease only while the session itself is alive.
LIVE_SESSION = (
    "AND EXISTS (SELECT 1 FROM django_session ds WHERE ds.session_key = lease.session_key AND ds.expire_date > now())"
)


def _create(apps, schema_editor) -> None:
    if schema_editor.connection.schema_name != get_public_schema_name():
        return  # once, in the public schema, not in every workspace
    public = schema_editor.quote_name(get_public_schema_name())
    schema_editor.execute(
        f"""
        CREATE OR REPLACE FUNCTION {public}.seat_lease_touch(
            p_session_key text, p_default_idle integer, p_renew_after interval)
        RETURNS TABLE ({LEASE_TABLE})
        LANGUAGE plpgsql VOLATILE AS $$
        #variable_conflict use_column
        BEGIN
            RETURN QUERY {LEASE.format(live_session="")} SELECT {LEASE_COLUMNS} FROM lease;
        END
        $$
        """
    )
    schema_editor.execute(
        f"""
        CREATE OR REPLACE FUNCTION {public}.session_with_lease(
            p_session_key text, p_default_idle integer, p_renew_after interval)
        RETURNS TABLE (session_data text, {LEASE_TABLE})
        LANGUAGE plpgsql VOLATILE AS $$
        #variable_conflict use_column
        BEGIN
            RETURN QUERY {LEASE.format(live_session=LIVE_SESSION)}
            SELECT s.session_data, {LEASE_COLUMNS}
            FROM django_session s LEFT JOIN lease ON true
            WHERE s.session_key = p_session_key AND s.expire_date > now();
        END
        $$
        """
    )


def _drop(apps, schema_editor) -> None:
    if schema_editor.connection.schema_name != get_public_schema_name():
        return
    public = schema_editor.quote_name(get_public_schema_name())
    schema_editor.execute(f"DROP FUNCTION IF EXISTS {public}.seat_lease_touch(text, integer, interval)")
    schema_editor.execute(f"DROP FUNCTION IF EXISTS {public}.session_with_lease(text, integer, interval)")


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0006_user_is_integration_apitoken"),
        ("sessions", "0001_initial"),
    ]

    operations = [migrations.RunPython(_create, _drop, elidable=False)]
