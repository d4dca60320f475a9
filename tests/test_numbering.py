"""`numbering.allocate_incident_numbers`: sequential per workspace, never handed out twice."""

import pytest
from django.db import IntegrityError, transaction
from django.db.transaction import TransactionManagementError

from incidents import membership
from incidents.models import Incident, Workspace
from incidents.numbering import allocate_incident_numbers
from tests.factories import IncidentFactory, WorkspaceFactory

pytestmark = pytest.mark.django_db


def allocate(workspace, count=1):
    with transaction.atomic():
        return list(allocate_incident_numbers(workspace, count))


def test_numbers_start_at_one_and_follow_each_other(workspace):
    assert [allocate(workspace) for _ in range(3)] == [[1], [2], [3]]


def test_incidents_are_numbered_in_the_order_they_are_created(workspace, actor):
    first = IncidentFactory(workspace=workspace)
    second = membership.create_incident(workspace, actor=actor, title="By hand")
    third = IncidentFactory(workspace=workspace)

    assert [first.number, second.number, third.number] == [1, 2, 3]


def test_each_workspace_counts_on_its_own(workspace, other_workspace):
    assert IncidentFactory(workspace=workspace).number == 1
    assert IncidentFactory(workspace=workspace).number == 2
    assert IncidentFactory(workspace=other_workspace).number == 1
    assert IncidentFactory(workspace=workspace).number == 3
    assert IncidentFactory(workspace=other_workspace).number == 2


def test_a_block_of_numbers_is_consecutive_and_the_next_one_follows_it(workspace):
    allocate(workspace)

    assert allocate(workspace, 5) == [2, 3, 4, 5, 6]
    assert allocate(workspace) == [7]


def test_a_stale_workspace_object_still_gets_the_next_number(workspace):
    stale = Workspace.objects.get(pk=workspace.pk)
    allocate(workspace, 3)

    assert allocate(stale) == [4]


def test_a_rolled_back_transaction_gives_its_numbers_back(workspace):
    allocate(workspace)

    def fail_after_allocating():
        with transaction.atomic():
            assert list(allocate_incident_numbers(workspace, 2)) == [2, 3]
            raise RuntimeError("the request failed")

    with pytest.raises(RuntimeError):
        fail_after_allocating()

    assert IncidentFactory(workspace=workspace).number == 2


def test_a_deleted_incidents_number_is_not_reused(workspace):
    IncidentFactory(workspace=workspace)
    last = IncidentFactory(workspace=workspace)
    Incident.objects.filter(pk=last.pk).delete()

    assert IncidentFactory(workspace=workspace).number == 3


def test_a_number_cannot_be_given_to_two_incidents_of_a_workspace(workspace):
    IncidentFactory(workspace=workspace, number=7)

    with pytest.raises(IntegrityError), transaction.atomic():
        IncidentFactory(workspace=workspace, number=7)


def test_the_same_number_in_two_workspaces_is_fine(workspace, other_workspace):
    IncidentFactory(workspace=workspace, number=7)

    assert IncidentFactory(workspace=other_workspace, number=7).number == 7


def test_numbers_are_unique_after_many_creations_in_several_workspaces(db):
    workspaces = WorkspaceFactory.create_batch(3)

    for _ in range(4):
        for ws in workspaces:
            IncidentFactory(workspace=ws)

    for ws in workspaces:
        numbers = list(Incident.objects.filter(workspace=ws).values_list("number", flat=True))
        assert sorted(numbers) == [1, 2, 3, 4]


@pytest.mark.parametrize("count", [0, -1])
def test_allocating_fewer_than_one_number_is_refused(count, workspace):
    with pytest.raises(ValueError, match="at least 1"):
        allocate(workspace, count)


@pytest.mark.django_db(transaction=True)
def test_allocating_outside_a_transaction_is_refused(workspace):
    with pytest.raises(TransactionManagementError):
        allocate_incident_numbers(workspace)

    assert Workspace.objects.get(pk=workspace.pk).next_incident_number == 1
