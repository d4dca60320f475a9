"""`incidents.bulk`: the fast ways in that ingestion takes, on SQLite and PostgreSQL alike."""

import pytest
from django.db.models.signals import post_init
from django.forms.models import model_to_dict

from incidents import bulk
from incidents.models import Entity, EntityIdentifier, Incident

pytestmark = pytest.mark.django_db


def test_build_makes_the_object_the_constructor_makes(workspace):
    values = {"workspace_id": workspace.pk, "kind": "host", "identifier": "fqdn:a.example"}

    built = bulk.build(Entity, values)

    made = Entity(**values)
    assert model_to_dict(built) == model_to_dict(made)
    assert built.pk is None
    assert built.display_name == ""
    assert built.properties == {}
    assert built._state.adding


def test_a_built_object_saves_like_any_other(workspace):
    entity = bulk.build(Entity, {"workspace_id": workspace.pk, "kind": "ip", "identifier": "ip:1"})

    entity.save()

    assert Entity.objects.get(pk=entity.pk).identifier == "ip:1"
    assert entity.workspace == workspace


def test_build_sends_the_init_signals_when_the_model_has_receivers(workspace):
    made = []

    def receiver(sender, instance, **kwargs):
        made.append(instance)

    post_init.connect(receiver, sender=Entity)
    try:
        entity = bulk.build(Entity, {"workspace_id": workspace.pk, "kind": "ip", "identifier": "x"})
    finally:
        post_init.disconnect(receiver, sender=Entity)

    assert made == [entity]


def test_build_gives_each_object_its_own_defaults(workspace):
    first = bulk.build(Incident, {"workspace_id": workspace.pk, "title": "a", "number": 1})
    second = bulk.build(Incident, {"workspace_id": workspace.pk, "title": "b", "number": 2})

    assert first.uuid != second.uuid
    assert first.labels == []
    assert first.labels is not second.labels


def test_built_objects_are_inserted_with_their_ids(workspace):
    entities = [
        bulk.build(Entity, {"workspace_id": workspace.pk, "kind": "ip", "identifier": f"ip:{n}"})
        for n in range(3)
    ]

    bulk.insert(entities)

    assert all(e.pk for e in entities)
    assert {e.pk: e.identifier for e in Entity.objects.all()} == {
        e.pk: e.identifier for e in entities
    }


def test_rows_of_values_are_inserted_numbered_by_the_database(workspace):
    entity = Entity.objects.create(workspace=workspace, kind="ip", identifier="ip:1")
    columns = ("workspace", "entity", "kind", "key", "strong")

    bulk.insert_rows(
        EntityIdentifier,
        columns,
        [
            (workspace.pk, entity.pk, "ip", "ip:1", True),
            (workspace.pk, entity.pk, "ip", "x", False),
        ],
    )

    saved = EntityIdentifier.objects.order_by("pk")
    assert [(i.entity_id, i.key, i.strong) for i in saved] == [
        (entity.pk, "ip:1", True),
        (entity.pk, "x", False),
    ]


def test_rows_take_json_columns_as_python_values(workspace):
    properties = {"Address": "203.0.113.7", "Ports": [443, 8443], "Huge": 2**70, "Note": "Ø"}

    bulk.insert_rows(
        Entity,
        ("workspace", "kind", "identifier", "display_name", "properties", "created"),
        [(workspace.pk, "ip", "ip:203.0.113.7", "203.0.113.7", properties, workspace.created)],
    )

    assert Entity.objects.get().properties == properties


def test_build_refuses_a_related_object_by_its_field_name(workspace):
    # `workspace=` would be dropped silently by a positional constructor: it is refused.
    with pytest.raises(TypeError, match="workspace"):
        bulk.build(Entity, {"workspace": workspace, "kind": "ip", "identifier": "ip:1"})


def test_update_writes_the_given_fields_of_each_object_and_no_other(workspace):
    first, second, _ = (
        Entity.objects.create(workspace=workspace, kind="ip", identifier=f"ip:{n}")
        for n in range(3)
    )
    first.display_name, first.properties = "Gateway", {"Huge": 2**70, "Ports": [443]}
    second.display_name, second.properties, second.kind = "Printer", {}, "host"

    bulk.update([first, second], ["display_name", "properties"])

    saved = {e.identifier: (e.kind, e.display_name, e.properties) for e in Entity.objects.all()}
    assert saved == {
        "ip:0": ("ip", "Gateway", {"Huge": 2**70, "Ports": [443]}),
        "ip:1": ("ip", "Printer", {}),
        "ip:2": ("ip", "", {}),
    }


def test_update_takes_times_and_nulls(workspace):
    incident = Incident.objects.create(workspace=workspace, number=1, title="A")
    incident.first_activity_time = workspace.created
    incident.last_activity_time = None
    incident.labels = ["phishing"]

    bulk.update([incident], ["first_activity_time", "last_activity_time", "labels"])

    incident.refresh_from_db()
    assert incident.first_activity_time == workspace.created
    assert incident.last_activity_time is None
    assert incident.labels == ["phishing"]
