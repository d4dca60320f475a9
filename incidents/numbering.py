"""Incident numbers: sequential per workspace, unique, handed out under a row lock."""

from django.db import transaction
from django.db.models import F

from incidents.models import Workspace


def allocate_incident_numbers(workspace: Workspace, count: int = 1) -> range:
    """Reserve `count` consecutive numbers in `workspace` and return them.

    The workspace row stays locked until the caller's transaction ends, so concurrent
    creators queue instead of colliding. A rolled-back transaction returns its numbers
    with it; a number is never handed out twice. Gaps are tolerated (a deleted incident
    leaves one), so nothing renumbers.
    """
    if count < 1:
        raise ValueError("count must be at least 1")
    # Not an assert (gone under -O): in autocommit two creators could read the same number.
    if not transaction.get_connection().in_atomic_block:
        raise transaction.TransactionManagementError("call inside transaction.atomic()")
    Workspace.objects.filter(pk=workspace.pk).update(
        next_incident_number=F("next_incident_number") + count
    )
    after = Workspace.objects.values_list("next_incident_number", flat=True).get(pk=workspace.pk)
    return range(after - count, after)
