"""Give every workspace that has no correlation rules the default rules.

A copy of `incidents.rules.defaults.DEFAULT_RULES` as they were when this migration was
written: migrations must not import app code, which may change after them.
"""

import datetime

from django.db import migrations

DEFAULT_RULES = [
    {
        "name": "Same user, host or mailbox (24 h)",
        "description": "Alerts from any product that share a strong account, host or "
        "mailbox identifier within a day: the steps of one attack on one user or machine.",
        "method": "shared_entity",
        "entity_kinds": ["account", "host", "mailbox"],
        "window": datetime.timedelta(hours=24),
    },
    {
        "name": "Same alert from the same address (24 h)",
        "description": "The same detection from the same IP addresses within a day: a "
        "password spray or a brute force re-raised on every run of its rule.",
        "method": "selected",
        "entity_kinds": ["ip"],
        "match_details": ["name"],
        "window": datetime.timedelta(hours=24),
    },
    {
        "name": "Same entities (5 h)",
        "description": "Alerts whose entities are all the same within 5 hours (Sentinel's "
        "default window): a detection that keeps firing about the same things.",
        "method": "all_entities",
        "window": datetime.timedelta(hours=5),
    },
]


def install_default_rules(apps, schema_editor):
    Workspace = apps.get_model("incidents", "Workspace")
    CorrelationRule = apps.get_model("incidents", "CorrelationRule")
    CorrelationRule.objects.bulk_create(
        CorrelationRule(workspace=workspace, order=(i + 1) * 10, **fields)
        for workspace in Workspace.objects.filter(correlation_rules__isnull=True)
        for i, fields in enumerate(DEFAULT_RULES)
    )


class Migration(migrations.Migration):
    dependencies = [("incidents", "0007_correlation_rules")]

    operations = [
        # Going back leaves the rules: an analyst may have edited them since.
        migrations.RunPython(install_default_rules, migrations.RunPython.noop),
    ]
