"""Each owner's incidents by number, so the queue sorted by owner reads each owner's first
incidents from the index and merges them (`selectors.incident_page`) instead of sorting
every incident by its owner's name (#14)."""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0017_incident_labels_trigram"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name="incident",
            index=models.Index(
                models.F("workspace"),
                models.F("owner"),
                models.F("number"),
                name="incident_owner_number_idx",
            ),
        ),
    ]
