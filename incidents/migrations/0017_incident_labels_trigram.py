"""On PostgreSQL, a trigram index on an incident's labels as text, as 0011 does for alert
names: the queue's label filter (`has_item(..., any_case=True)` generates
`UPPER(labels::text) LIKE UPPER(…)`) finds the few incidents with a rare label from the
index instead of reading every incident of the queue (#14). SQLite has no such index.
"""

from django.db import migrations

CREATE = """
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX IF NOT EXISTS incident_labels_trgm_idx
    ON incidents_incident USING gin (UPPER(labels::text) gin_trgm_ops);
"""

DROP = "DROP INDEX IF EXISTS incident_labels_trgm_idx;"


def run(sql):
    def apply(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)

    return apply


class Migration(migrations.Migration):
    dependencies = [("incidents", "0016_incident_products_tactics")]

    operations = [migrations.RunPython(run(CREATE), run(DROP))]
