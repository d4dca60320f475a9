"""The database itself refuses to edit (and on PostgreSQL to delete) security events.

As for the activity log (incidents 0002): TRUNCATE stays possible on PostgreSQL for test
flushes and deliberate resets. On SQLite a flush is a plain DELETE, so there the trigger
refuses updates only and deletes are refused by the model and queryset guards.
"""

from django.db import migrations

POSTGRESQL = (
    """
    CREATE FUNCTION audit_securityevent_append_only() RETURNS trigger AS $$
    BEGIN
        RAISE EXCEPTION 'The security log is append-only: % refused', TG_OP;
    END;
    $$ LANGUAGE plpgsql;
    CREATE TRIGGER audit_securityevent_append_only
        BEFORE UPDATE OR DELETE ON audit_securityevent
        FOR EACH ROW EXECUTE FUNCTION audit_securityevent_append_only();
    """,
    """
    DROP TRIGGER IF EXISTS audit_securityevent_append_only ON audit_securityevent;
    DROP FUNCTION IF EXISTS audit_securityevent_append_only();
    """,
)

SQLITE = (
    """
    CREATE TRIGGER audit_securityevent_append_only
        BEFORE UPDATE ON audit_securityevent
        BEGIN SELECT RAISE(ABORT, 'The security log is append-only: UPDATE refused'); END;
    """,
    "DROP TRIGGER IF EXISTS audit_securityevent_append_only;",
)


def run(index: int):
    def apply(apps, schema_editor):
        sql = {"postgresql": POSTGRESQL, "sqlite": SQLITE}.get(schema_editor.connection.vendor)
        if sql:
            schema_editor.execute(sql[index], params=None)

    return apply


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]

    operations = [migrations.RunPython(run(0), run(1))]
