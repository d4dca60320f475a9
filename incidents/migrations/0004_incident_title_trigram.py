"""On PostgreSQL, a trigram index makes "title contains these words" an index search.

It matches what `title__icontains` generates there (`UPPER(title::text) LIKE UPPER(…)`),
so the queue's text filter and the flyout's "Incident name or ID" search every incident
without a full scan. SQLite has no such index and scans (its databases are small).
"""

from django.db import migrations

CREATE = """
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX IF NOT EXISTS incident_title_trgm_idx
    ON incidents_incident USING gin (UPPER(title::text) gin_trgm_ops);
"""

DROP = "DROP INDEX IF EXISTS incident_title_trgm_idx;"


def run(sql):
    def apply(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)

    return apply


class Migration(migrations.Migration):
    dependencies = [("incidents", "0003_api_token")]

    operations = [migrations.RunPython(run(CREATE), run(DROP))]
