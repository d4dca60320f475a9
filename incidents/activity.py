"""Who did something, and the append-only log that remembers it."""

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser

from incidents import bulk
from incidents.models import ActivityEntry, ActivityKind, Incident, Via

# What `entry_row` gives, in order.
ROW_COLUMNS = (
    "incident",
    "actor",
    "actor_name",
    "via",
    "kind",
    "message",
    "comment",
    "details",
    "created",
)


# How many alerts a batch's message names; its details list them all (`alert_list`).
NAMED_ALERTS = 3


def alert_names(alerts: Sequence[Any]) -> str:
    """“A”, “B”, “C” and 9 more: the first alerts of a batch, for its one entry's message."""
    names = [f"“{a.display_name}”" for a in alerts[:NAMED_ALERTS]]
    rest = len(alerts) - len(names)
    if rest:
        return f"{', '.join(names)} and {rest} more"
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def alert_list(alerts: Sequence[Any], **per_alert: dict) -> list[dict[str, Any]]:
    """A batch's alerts for its entry's details (ids and names): `per_alert` adds a value
    by alert id to each, e.g. `from={alert.pk: [40]}`."""
    return [
        {
            "alert": str(a.system_alert_id),
            "alert_name": a.display_name,
            **{key: values[a.pk] for key, values in per_alert.items()},
        }
        for a in alerts
    ]


@dataclass(frozen=True)
class Actor:
    """The user or named system actor behind a change, and the channel it came through."""

    user: AbstractBaseUser | None
    name: str
    via: Via

    @classmethod
    def for_user(cls, user: AbstractBaseUser, via: Via = Via.UI) -> "Actor":
        return cls(user=user, name=user.get_username(), via=via)

    @classmethod
    def system(cls, name: str, via: Via = Via.RULE) -> "Actor":
        return cls(user=None, name=name, via=via)

    @property
    def label(self) -> str:
        """How the actor reads in a sentence: "alice", "alice (API)", "automation rule X"."""
        if self.user is None:
            return self.name
        if self.via == Via.API:
            return f"{self.name} (API)"
        if self.via == Via.ADMIN:
            return f"{self.name} (admin site)"
        return self.name


def entry(
    incident: Incident,
    actor: Actor,
    kind: ActivityKind,
    message: str,
    *,
    comment: str = "",
    details: dict[str, Any] | None = None,
) -> ActivityEntry:
    """An unsaved entry; `write` saves a batch of them in one query."""
    made = ActivityEntry(
        # Ids, not objects: ingestion makes thousands of entries, and assigning an object
        # costs a database router check each time. The objects are cached all the same.
        incident_id=incident.pk,
        actor_id=actor.user.pk if actor.user else None,
        actor_name=actor.name,
        via=actor.via,
        kind=kind,
        message=message,
        comment=comment,
        details=details or {},
    )
    ActivityEntry.incident.field.set_cached_value(made, incident)
    ActivityEntry.actor.field.set_cached_value(made, actor.user)
    return made


def entry_row(
    incident: Incident,
    actor: Actor,
    kind: ActivityKind,
    message: str,
    *,
    created: dt.datetime,
    comment: str = "",
    details: dict[str, Any] | None = None,
) -> tuple:
    """An entry as a row of values (`ROW_COLUMNS`) for `write_rows`: ingestion writes
    thousands a batch, and a model object each would cost more than the rest of the entry."""
    return (
        incident.pk,
        actor.user.pk if actor.user else None,
        actor.name,
        actor.via,
        kind,
        message,
        comment,
        details or {},
        created,
    )


def write_rows(rows: Iterable[tuple]) -> None:
    """Save rows of `entry_row` in one query."""
    bulk.insert_rows(ActivityEntry, ROW_COLUMNS, rows)


def write(entries: Iterable[ActivityEntry]) -> list[ActivityEntry]:
    return ActivityEntry.objects.bulk_create(list(entries))


def record(
    incident: Incident,
    actor: Actor,
    kind: ActivityKind,
    message: str,
    *,
    comment: str = "",
    details: dict[str, Any] | None = None,
) -> ActivityEntry:
    return write([entry(incident, actor, kind, message, comment=comment, details=details)])[0]
