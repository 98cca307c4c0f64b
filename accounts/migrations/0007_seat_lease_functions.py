"""The per-request seat check as two PL/pgSQL functions (accounts.lease_sql calls them).

Every signed-in request reads its session's seat lease and renews it at most once a
minute. As a statement sent each time, PostgreSQL planned that read-and-renew (a CTE with
an UPDATE) on every request, and planning cost more than running it (bench seats). A
PL/pgSQL function keeps the plans of its statements for the connection's life.

They live in the public schema once and have no search_path of their own: the tables
they name are the ones of the workspace the connection serves, as for every other query
of the request. PostgreSQL re-plans their statements when the connection moves to another
workspace, so they are a few single-table statements, each quick to plan, rather than
one join.
"""

from django.db import migrations
from django_tenants.utils import get_public_schema_name

LEASE_TABLE = (
    "lease_id bigint, released_at timestamptz, release_reason text, idle_for interval, "
    "idle_minutes integer, db_now timestamptz"
)


def _create(apps, schema_editor) -> None:
    if schema_editor.connection.schema_name != get_public_schema_name():
        return  # once, in the public schema, not in every workspace
    public = schema_editor.quote_name(get_public_schema_name())
    # The lease of a session with its idle time and the workspace's idle timeout, renewed
    # when last seen more than p_renew_after ago, still held and not yet idle too long
    # (accounts.seats.lease_state_settle releases that one). No row: no lease.
    schema_editor.execute(
        f"""
        CREATE OR REPLACE FUNCTION {public}.seat_lease_touch(
            p_session_key text, p_default_idle integer, p_renew_after interval)
        RETURNS TABLE ({LEASE_TABLE})
        LANGUAGE plpgsql VOLATILE AS $$
        #variable_conflict use_column
        BEGIN
            SELECT l.id, l.released_at, l.release_reason, now() - l.last_seen_at
              INTO lease_id, released_at, release_reason, idle_for
              FROM accounts_seatlease l WHERE l.session_key = p_session_key;
            IF NOT FOUND THEN
                RETURN;
            END IF;
            SELECT a.idle_timeout_minutes INTO idle_minutes FROM accounts_accesssettings a WHERE a.id = 1;
            idle_minutes := coalesce(idle_minutes, p_default_idle);
            db_now := now();
            IF released_at IS NULL AND idle_for > p_renew_after
               AND idle_for <= make_interval(mins => idle_minutes) THEN
                UPDATE accounts_seatlease SET last_seen_at = now() WHERE id = lease_id AND released_at IS NULL;
            END IF;
            RETURN NEXT;
        END
        $$
        """
    )
    # A live web session's data and its lease as above; nothing (and no renewal) for a
    # missing or expired session.
    schema_editor.execute(
        f"""
        CREATE OR REPLACE FUNCTION {public}.session_with_lease(
            p_session_key text, p_default_idle integer, p_renew_after interval)
        RETURNS TABLE (session_data text, {LEASE_TABLE})
        LANGUAGE plpgsql VOLATILE AS $$
        #variable_conflict use_column
        BEGIN
            SELECT s.session_data INTO session_data
              FROM django_session s WHERE s.session_key = p_session_key AND s.expire_date > now();
            IF NOT FOUND THEN
                RETURN;
            END IF;
            SELECT t.lease_id, t.released_at, t.release_reason, t.idle_for, t.idle_minutes, t.db_now
              INTO lease_id, released_at, release_reason, idle_for, idle_minutes, db_now
              FROM {public}.seat_lease_touch(p_session_key, p_default_idle, p_renew_after) t;
            RETURN NEXT;
        END
        $$
        """
    )


def _drop(apps, schema_editor) -> None:
    if schema_editor.connection.schema_name != get_public_schema_name():
        return
    public = schema_editor.quote_name(get_public_schema_name())
    schema_editor.execute(f"DROP FUNCTION IF EXISTS {public}.session_with_lease(text, integer, interval)")
    schema_editor.execute(f"DROP FUNCTION IF EXISTS {public}.seat_lease_touch(text, integer, interval)")


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0006_user_is_integration_apitoken"),
        ("sessions", "0001_initial"),
    ]

    operations = [migrations.RunPython(_create, _drop, elidable=False)]
