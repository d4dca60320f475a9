"""Merge incidents into one the analyst chooses, keeping everything of both sides.

Every alert of the sources joins the target (an alert already there stays once), its
relation keeping its reason, author, time and details plus where it came from. Each
source is closed as Undetermined ("Merged into incident #N"), labelled `Merged` and points
at the target; its comments are copied into the target with their author and time. The
target takes the highest severity, the union of the labels and, when it has none, the
first source's owner. Nothing is deleted: a source's page, URL and API id keep working.
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from incidents import activity, bulk
from incidents.actions import check_comment, close_locked
from incidents.activity import Actor
from incidents.errors import (
    AlreadyMerged,
    InvalidChange,
    MergeAcrossWorkspaces,
    MergeIntoItself,
    MergeProviderManaged,
    MergeRefused,
    MergeTooLarge,
    NothingToMerge,
    TooManySources,
)
from incidents.membership.core import lock_incidents, max_alerts, memberships_of, recount, sync
from incidents.membership.undo import MERGED_LABEL, record, relation_rows
from incidents.models import (
    SEVERITY_ORDER,
    ActivityEntry,
    ActivityKind,
    Alert,
    ChangeKind,
    Classification,
    Incident,
    MembershipChange,
    Relation,
)

MERGED_COMMENT = "Merged into incident #{number}."


def max_sources() -> int:
    return settings.TRIAGE_MAX_MERGE_SOURCES


@dataclass
class MergePreview:
    """What `merge_incidents` would do now, or why it would refuse (no locks, no changes)."""

    target: Incident
    sources: list[Incident]
    # Alerts that would join the target, and those already there (or in two sources).
    joining: int
    duplicates: int
    # The target's alert count after the merge.
    total: int
    comments: int
    refusal: MergeRefused | None = None
    # Things worth knowing that do not stop the merge ("#20 is closed").
    warnings: list[str] = field(default_factory=list)


@dataclass
class MergeResult:
    target: Incident
    sources: list[Incident]
    joined: list[Alert]
    duplicates: int
    comments: int
    change: MembershipChange

    @property
    def message(self) -> str:
        numbers = ", ".join(f"#{s.number}" for s in self.sources)
        joined = len(self.joined)
        return (
            f"Merged {numbers} into incident #{self.target.number} “{self.target.title}”: "
            f"{joined} alert{'s' if joined != 1 else ''} joined it."
        )


def _unique(sources: Sequence[Incident]) -> list[Incident]:
    return list({s.pk: s for s in sources}.values())


def _check_request(sources: Sequence[Incident], target: Incident, reason: str) -> None:
    if not sources:
        raise NothingToMerge()
    if len(sources) > max_sources():
        raise TooManySources(len(sources), max_sources())
    if not reason.strip():
        raise InvalidChange("Give a reason for the merge.")
    for source in sources:
        if source.pk == target.pk:
            raise MergeIntoItself(target)


def _check(
    sources: Sequence[Incident],
    target: Incident,
    alert_ids: dict[int, list[int]],
    merged_into: dict[int, Incident],
) -> None:
    """Refuse a merge the rules forbid."""
    for incident in (target, *sources):
        if incident.provider_name in settings.TRIAGE_SELF_CORRELATING_PROVIDERS:
            raise MergeProviderManaged(incident)
    for incident in (target, *sources):
        if incident.merged_into_id is not None:
            raise AlreadyMerged(incident, merged_into[incident.merged_into_id])
    for source in sources:
        if source.workspace_id != target.workspace_id:
            raise MergeAcrossWorkspaces(source, target)
    total = len({a for ids in alert_ids.values() for a in ids})
    if total > max_alerts():
        raise MergeTooLarge(target, total, max_alerts())


def _alert_ids(incident_ids: Sequence[int]) -> dict[int, list[int]]:
    found: dict[int, list[int]] = {pk: [] for pk in incident_ids}
    rows = Relation.objects.filter(incident_id__in=incident_ids, alert__isnull=False)
    for incident_id, alert_id in rows.order_by("created", "id").values_list(
        "incident_id", "alert_id"
    ):
        found[incident_id].append(alert_id)
    return found


def _merged_into(incidents: Sequence[Incident]) -> dict[int, Incident]:
    return Incident.objects.in_bulk({i.merged_into_id for i in incidents if i.merged_into_id})


def _comments(incidents: Sequence[Incident]):
    return ActivityEntry.objects.filter(incident__in=incidents, kind=ActivityKind.COMMENT)


def preview_merge(sources: Sequence[Incident], *, into: Incident) -> MergePreview:
    """What merging `sources` into `into` would do, and any refusal, before Save."""
    sources = _unique(sources)
    ids = [into.pk, *(s.pk for s in sources if s.pk != into.pk)]
    alert_ids = _alert_ids(ids)
    target_alerts = set(alert_ids[into.pk])
    source_alerts = [a for s in sources if s.pk != into.pk for a in alert_ids[s.pk]]
    joining = set(source_alerts) - target_alerts
    preview = MergePreview(
        target=into,
        sources=sources,
        joining=len(joining),
        duplicates=len(source_alerts) - len(joining),
        total=len(target_alerts | joining),
        comments=_comments([s for s in sources if s.pk != into.pk]).count(),
    )
    try:
        _check_request(sources, into, "preview")
        _check(sources, into, alert_ids, _merged_into([into, *sources]))
    except MergeRefused as refusal:
        preview.refusal = refusal
    if into.is_closed:
        preview.warnings.append(
            f"Incident #{into.number} is closed: the merged alerts will be in a closed incident."
        )
    return preview


class _SourcesChanged(Exception):
    """Alerts joined a source between reading its alerts and locking it: lock them too."""

    def __init__(self, alert_ids: set[int]) -> None:
        self.alert_ids = alert_ids


@dataclass
class MergeRequest:
    """One merge of `merge_many`: `sources` into `into`, by `actor`, for `reason`."""

    sources: Sequence[Incident]
    into: Incident
    actor: Actor
    reason: str


@dataclass
class _Merge:
    sources: list[Incident]
    into: Incident
    actor: Actor
    reason: str

    @property
    def source_ids(self) -> list[int]:
        return [s.pk for s in self.sources]


def merge_incidents(
    sources: Sequence[Incident], *, into: Incident, actor: Actor, reason: str
) -> MergeResult:
    """Merge `sources` into `into` (see the module's docstring). Atomic; refused as a whole."""
    (result,) = merge_many([MergeRequest(sources, into, actor, reason)])
    if isinstance(result, MergeRefused):
        raise result
    return result


def merge_many(requests: Sequence[MergeRequest]) -> list[MergeResult | MergeRefused]:
    """Merges that share no incident, each done as `merge_incidents` does it, in one
    transaction: a refused one changes nothing and gives its refusal in place of its
    result. The queries do not grow with the merges, but for each one's Undo record and
    the closing of each source."""
    results: list[MergeResult | MergeRefused | None] = [None] * len(requests)
    merges: dict[int, _Merge] = {}
    for i, request in enumerate(requests):
        sources = _unique(request.sources)
        try:
            _check_request(sources, request.into, request.reason)
        except MergeRefused as refusal:
            results[i] = refusal
            continue
        reason = check_comment(request.reason, required=True)
        merges[i] = _Merge(sources, request.into, request.actor, reason)
    seen: set[int] = set()
    for merge in merges.values():
        ids = {merge.into.pk, *merge.source_ids}
        if ids & seen:
            raise ValueError("merge_many takes merges that share no incident.")
        seen |= ids
    if not merges:
        return results
    seen_alerts: set[int] = set()
    for _attempt in range(5):
        try:
            with transaction.atomic():
                done = _merge_locked(list(merges.values()), also=seen_alerts)
            break
        except _SourcesChanged as changed:
            # The savepoint's rollback released the locks: take them again, with the
            # alerts that had joined, so that busy sources are not chased forever.
            seen_alerts |= changed.alert_ids
    else:
        raise InvalidChange("The incidents kept changing while merging them; try again.")
    for i, result in zip(merges, done, strict=True):
        results[i] = result
    return results


def _merge_locked(merges: list[_Merge], also: set[int]) -> list[MergeResult | MergeRefused]:
    source_ids = [pk for merge in merges for pk in merge.source_ids]
    before = _alert_ids(source_ids)
    wanted = sorted({a for ids in before.values() for a in ids} | also)
    # In id order, as every other change takes them: in scan order a merge and a move of
    # the same alerts could each hold one the other waits for.
    locking = Alert.objects.select_for_update(no_key=True).filter(pk__in=wanted).order_by("pk")
    # Not their JSON columns: a big source's would cost more than the rest of the merge.
    locking = locking.only("workspace_id", "system_alert_id", "display_name")
    alerts = {a.pk: a for a in locking}
    locked = lock_incidents([*(merge.into.pk for merge in merges), *source_ids])
    alert_ids = _alert_ids(list(locked))
    if any(a not in alerts for pk in source_ids for a in alert_ids[pk]):
        raise _SourcesChanged({a for pk in source_ids for a in alert_ids[pk]})
    merged_into = _merged_into(locked.values())
    outcomes: dict[int, MergeResult | MergeRefused] = {}
    going: list[_Merge] = []
    for merge in merges:
        ids = [merge.into.pk, *merge.source_ids]
        try:
            _check(
                [locked[pk] for pk in merge.source_ids],
                locked[merge.into.pk],
                {pk: alert_ids[pk] for pk in ids},
                merged_into,
            )
        except MergeRefused as refusal:
            outcomes[id(merge)] = refusal
        else:
            going.append(merge)
    if going:
        done = _apply(going, locked, alerts, alert_ids)
        for merge, result in zip(going, done, strict=True):
            outcomes[id(merge)] = result
    return [outcomes[id(merge)] for merge in merges]


def _apply(
    merges: list[_Merge],
    locked: dict[int, Incident],
    alerts: dict[int, Alert],
    alert_ids: dict[int, list[int]],
) -> list[MergeResult]:
    """Do merges that passed their checks, under the locks `_merge_locked` took."""
    source_ids = [pk for merge in merges for pk in merge.source_ids]
    uids = [uuid.uuid4() for _ in merges]
    moving = Relation.objects.filter(incident_id__in=source_ids, alert__isnull=False)
    all_rows = relation_rows(moving)
    # Each alert's incidents once each merge is done, for its Undo record: the merges
    # share no incident, so each one's replaces its sources by its target.
    memberships = memberships_of({a for pk in source_ids for a in alert_ids[pk]})
    moving.delete()
    targets = [locked[merge.into.pk] for merge in merges]
    sources_of = [[locked[pk] for pk in merge.source_ids] for merge in merges]
    rows_of, joined_of, afters = [], [], []
    new_relations = []
    for merge, target, locked_sources in zip(merges, targets, sources_of, strict=True):
        ids = merge.source_ids
        rows = [r for r in all_rows if r["incident"] in ids]
        present = set(alert_ids[target.pk])
        joined_rows = []
        for row in sorted(rows, key=lambda r: (ids.index(r["incident"]), r["created"])):
            if row["alert"] not in present:
                present.add(row["alert"])
                joined_rows.append(row)
        numbers = {s.pk: s.number for s in locked_sources}
        new_relations.extend(
            Relation(
                incident=target,
                alert_id=row["alert"],
                # A fresh name: the source's may be taken in the target, and the source keeps
                # it.
                name=str(uuid.uuid5(target.uuid, f"{row['incident']}:{row['name']}")),
                reason=row["reason"],
                details={**row["details"], "merged_from": numbers[row["incident"]]},
                created_by_id=row["created_by"],
                created_by_name=row["created_by_name"],
                created=datetime.fromisoformat(row["created"]),
            )
            for row in joined_rows
        )
        mine = {a for pk in ids for a in alert_ids[pk]}
        for alert_id in mine:
            incidents = memberships[alert_id]
            if incidents & set(ids):
                memberships[alert_id] = (incidents - set(ids)) | {target.pk}
        afters.append({a: set(memberships[a]) for a in mine})
        rows_of.append(rows)
        joined_of.append(joined_rows)
    Relation.objects.bulk_create(new_relations)
    copied = _copy_comments(list(zip(sources_of, targets, uids, strict=True)))

    befores = [_target_fields(target) for target in targets]
    now = timezone.now()
    for target, locked_sources in zip(targets, sources_of, strict=True):
        owners = [s.owner_id for s in locked_sources if s.owner_id]
        if target.owner_id is None and owners:
            target.owner_id = owners[0]
        target.severity = min(
            (target.severity, *(s.severity for s in locked_sources)), key=SEVERITY_ORDER.index
        )
        target.labels = list(
            dict.fromkeys([*target.labels, *(label for s in locked_sources for label in s.labels)])
        )
        target.modified = now
    bulk.update(targets, ["owner", "severity", "labels", "modified"])

    entries = []
    for merge, target, locked_sources, rows, uid in zip(
        merges, targets, sources_of, rows_of, uids, strict=True
    ):
        actor, tag = merge.actor, {"change": str(uid)}
        for source in locked_sources:
            moved = sum(1 for r in rows if r["incident"] == source.pk)
            comments = copied.get(source.pk, 0)
            summary = f"{_count(moved, 'alert')}, {_count(comments, 'comment')}"
            entries.append(
                activity.entry(
                    target,
                    actor,
                    ActivityKind.MERGED_IN,
                    f"Incident #{source.number} was merged into this incident by "
                    f"{actor.label}: {summary}.",
                    comment=merge.reason,
                    details={**tag, "source": source.number, "alerts": moved, "comments": comments},
                )
            )
            entries.append(
                activity.entry(
                    source,
                    actor,
                    ActivityKind.MERGED_INTO,
                    f"{actor.label} merged this incident into #{target.number}: "
                    f"{summary} went there.",
                    comment=merge.reason,
                    details={**tag, "target": target.number, "alerts": moved, "comments": comments},
                )
            )
    activity.write(entries)
    closed_of, labelled_of = [], []
    for merge, target, locked_sources, uid in zip(merges, targets, sources_of, uids, strict=True):
        closed, labelled = [], []
        for source in locked_sources:
            if not source.is_closed:
                closed.append((source, source.status))
                close_locked(
                    source,
                    classification=Classification.UNDETERMINED,
                    reason="",
                    comment=MERGED_COMMENT.format(number=target.number),
                    actor=merge.actor,
                    details={"change": str(uid)},
                )
            if MERGED_LABEL not in source.labels:
                source.labels = [*source.labels, MERGED_LABEL]
                labelled.append(source.pk)
            source.merged_into = target
            source.modified = timezone.now()
        closed_of.append(closed)
        labelled_of.append(labelled)
    all_sources = [s for locked_sources in sources_of for s in locked_sources]
    bulk.update(all_sources, ["labels", "merged_into", "modified"])
    recount([*targets, *all_sources])

    results = []
    for i, merge in enumerate(merges):
        target, locked_sources, rows, joined_rows = (
            targets[i],
            sources_of[i],
            rows_of[i],
            joined_of[i],
        )
        sources_text = ", ".join(f"#{s.number}" for s in locked_sources)
        change = record(
            ChangeKind.MERGE,
            uid=uids[i],
            workspace_id=target.workspace_id,
            actor=merge.actor,
            summary=f"{sources_text} merged into #{target.number}",
            removed=rows,
            added=[(target.pk, row["alert"]) for row in joined_rows],
            after=afters[i],
            closed=closed_of[i],
            merge={
                "into": target.pk,
                "sources": merge.source_ids,
                "labelled": labelled_of[i],
                "target_before": befores[i],
                "target_after": _target_fields(target),
            },
        )
        sync(merge.into, target)
        for source, original in zip(locked_sources, merge.sources, strict=True):
            sync(original, source)
        results.append(
            MergeResult(
                target=target,
                sources=locked_sources,
                joined=[alerts[row["alert"]] for row in joined_rows],
                duplicates=len(rows) - len(joined_rows),
                comments=sum(copied.get(s.pk, 0) for s in locked_sources),
                change=change,
            )
        )
    return results


def _copy_comments(
    merges: list[tuple[list[Incident], Incident, uuid.UUID]],
) -> dict[int, int]:
    """Copy each merge's sources' comments into its target, each once: source id → how
    many."""
    targets = [target for _, target, _ in merges]
    present: dict[int, set] = {t.pk: set() for t in targets}
    for incident_id, details in _comments(targets).values_list("incident_id", "details"):
        present[incident_id].add(details.get("comment_id"))
    target_of = {s.pk: (target, uid) for sources, target, uid in merges for s in sources}
    copies, counts = [], {}
    entries = _comments([s for sources, _, _ in merges for s in sources])
    for entry in entries.select_related("incident").order_by("created", "id"):
        target, uid = target_of[entry.incident_id]
        origin = entry.details.get("copied_from", {}).get("incident", entry.incident.number)
        comment_id = str(uuid.uuid5(target.uuid, str(entry.details.get("comment_id", entry.pk))))
        if comment_id in present[target.pk]:
            continue
        present[target.pk].add(comment_id)
        copies.append(
            ActivityEntry(
                incident=target,
                actor_id=entry.actor_id,
                actor_name=entry.actor_name,
                via=entry.via,
                kind=ActivityKind.COMMENT,
                message=f"{entry.actor_name} commented on #{origin}.",
                comment=entry.comment,
                details={
                    "comment_id": comment_id,
                    "copied_from": {"incident": origin, "entry": entry.pk},
                    "change": str(uid),
                },
                created=entry.created,
            )
        )
        counts[entry.incident_id] = counts.get(entry.incident_id, 0) + 1
    activity.write(copies)
    return counts


def _target_fields(target: Incident) -> dict:
    return {"owner_id": target.owner_id, "severity": target.severity, "labels": target.labels}


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'s' if n != 1 else ''}"
