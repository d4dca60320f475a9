"""On PostgreSQL, a trigram index makes "alert name contains these words" an index search,
as migration 0004 does for incident titles: it matches what `display_name__icontains`
generates there (`UPPER(display_name::text) LIKE UPPER(…)`), so the alerts queue's search
no longer walks the whole queue index for a rare word (#14). SQLite has no such index.
"""

from django.db import migrations

CREATE = """
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX IF NOT EXISTS alert_name_trgm_idx
    ON incidents_alert USING gin (UPPER(display_name::text) gin_trgm_ops);
"""

DROP = "DROP INDEX IF EXISTS alert_name_trgm_idx;"


def run(sql):
    def apply(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)

    return apply


class Migration(migrations.Migration):
    dependencies = [("incidents", "0010_queue_filters_and_sorts")]

    operations = [migrations.RunPython(run(CREATE), run(DROP))]
