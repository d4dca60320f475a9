"""On PostgreSQL, GIN indexes on each incident's products and tactics and on each alert's
tactics (#14): the queues' product and tactic filters (`products @> '["…"]'`) find a rare
value's few rows through them, where they walked every row of the queue (a product in
ten incidents of 100,000 cost a scan of the whole table for its page and again for its
count; a tactic no alert has, 460 ms at a million alerts). SQLite has no such index.
"""

from django.db import migrations

CREATE = """
CREATE INDEX IF NOT EXISTS incident_products_gin_idx
    ON incidents_incident USING gin (products jsonb_path_ops);
CREATE INDEX IF NOT EXISTS incident_tactics_gin_idx
    ON incidents_incident USING gin (tactics jsonb_path_ops);
CREATE INDEX IF NOT EXISTS alert_tactics_gin_idx
    ON incidents_alert USING gin (tactics jsonb_path_ops);
"""

DROP = """
DROP INDEX IF EXISTS incident_products_gin_idx;
DROP INDEX IF EXISTS incident_tactics_gin_idx;
DROP INDEX IF EXISTS alert_tactics_gin_idx;
"""


def run(sql):
    def apply(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)

    return apply


class Migration(migrations.Migration):
    dependencies = [("incidents", "0018_incident_owner_number_idx")]

    operations = [migrations.RunPython(run(CREATE), run(DROP))]
