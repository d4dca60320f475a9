"""On PostgreSQL, the database itself refuses to edit or delete activity entries.

TRUNCATE (used by test flushes and deliberate resets) is not a row operation and stays
possible. SQLite relies on the model and queryset guards alone.
"""

from django.db import migrations

CREATE = """
CREATE FUNCTION incidents_activity_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'The activity log is append-only: % refused', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER incidents_activity_append_only
    BEFORE UPDATE OR DELETE ON incidents_activityentry
    FOR EACH ROW EXECUTE FUNCTION incidents_activity_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS incidents_activity_append_only ON incidents_activityentry;
DROP FUNCTION IF EXISTS incidents_activity_append_only();
"""


def run(sql):
    def apply(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)

    return apply


class Migration(migrations.Migration):
    dependencies = [("incidents", "0001_initial")]

    operations = [migrations.RunPython(run(CREATE), run(DROP))]
