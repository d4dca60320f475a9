from django.db import migrations, models


class Migration(migrations.Migration):
    """Indexes for the queues' filters and sorts: the alert providers' choice list (walked
    from one value to the next), and sorting by status (the alerts' status index gains the
    id that breaks ties, so it serves both filtering and sorting). Also the activity kinds
    of severity and label changes (choices only: nothing changes in the database)."""

    dependencies = [
        ("incidents", "0009_submitted_form"),
    ]

    operations = [
        migrations.AlterField(
            model_name="activityentry",
            name="kind",
            field=models.CharField(
                choices=[
                    ("created", "Incident created"),
                    ("alert_correlated", "Alert correlated"),
                    ("alert_added", "Alert added"),
                    ("alert_removed", "Alert removed"),
                    ("alert_moved_in", "Alert moved in"),
                    ("alert_moved_out", "Alert moved out"),
                    ("bookmark_added", "Bookmark added"),
                    ("bookmark_removed", "Bookmark removed"),
                    ("comment", "Comment"),
                    ("status", "Status changed"),
                    ("owner", "Owner changed"),
                    ("severity", "Severity changed"),
                    ("labels", "Labels changed"),
                    ("closed", "Closed"),
                    ("reopened", "Reopened"),
                    ("continued", "Continued in another incident"),
                    ("merged_in", "Incident merged in"),
                    ("merged_into", "Merged into another incident"),
                    ("undone", "Change undone"),
                ],
                max_length=32,
            ),
        ),
        migrations.RemoveIndex(model_name="alert", name="alert_status_idx"),
        migrations.AddIndex(
            model_name="alert",
            index=models.Index(
                models.F("workspace"),
                models.F("status"),
                models.F("id"),
                name="alert_status_id_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="alert",
            index=models.Index(
                models.F("workspace"), models.F("provider_name"), name="alert_provider_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="incident",
            index=models.Index(
                models.F("workspace"),
                models.F("status"),
                models.F("number"),
                name="incident_status_number_idx",
            ),
        ),
    ]
