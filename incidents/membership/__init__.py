"""Every change of alert membership: which alerts (and bookmarks) belong to which incident.

The web views, the API, the admin and automation rules call these functions and never
write a `Relation` themselves, so the rules of DESIGN.md hold at every call:

1. an incident holds at most `TRIAGE_MAX_ALERTS_PER_INCIDENT` alerts;
2. an alert only joins incidents of its own workspace;
3. an alert is related to an incident at most once;
4. every alert keeps at least one incident;
5. alerts of a self-correlating provider (`TRIAGE_SELF_CORRELATING_PROVIDERS`: Defender
   XDR and its products) are neither added to nor removed from that provider's incidents;
6. every incident touched gets its activity entries in the same transaction;
7. each operation is atomic, and locks rows in one global order — alerts by id, then
   incidents by id, then the workspace's number counter — so concurrent requests queue
   instead of deadlocking, and none can pass the cap or strand an alert.

Naming rule for an incident created from alerts (`move_alerts(destination=None)`): the
alerts' distinct display names in order of first appearance (earliest alert first).
One name gives "<name>", or "<name> (N alerts)" when several alerts share it; two give
"<A> and <B>"; more give "<A>, <B> and K more". Titles are cut to 256 characters.

Merges and undo keep the same rules: `merge` moves every alert of the merged incidents
into the target, and `undo` inverts a move, merge or remove while nothing has changed
since. One module per operation over a shared core (`core`: locking, the rule checks, relating,
recounting); callers use this package's names: `membership.move_alerts(...)`.
"""

from incidents.membership.add import AddPreview, AddResult, add_alerts, preview_add
from incidents.membership.core import (
    CLOSED_BY_MOVE_COMMENT,
    OtherIncident,
    highest_severity,
    incident_title_for,
    is_provider_managed,
    max_alerts,
)
from incidents.membership.imports import (
    Correlated,
    Placement,
    correlate_new_alerts,
    create_incident,
    import_incidents,
    refresh_activity_times,
)
from incidents.membership.merge import MergePreview, MergeResult, merge_incidents, preview_merge
from incidents.membership.move import (
    MovePreview,
    MoveResult,
    move_alerts,
    preview_move,
    preview_move_to,
)
from incidents.membership.relations import delete_relation, put_relation
from incidents.membership.remove import RemoveResult, preview_remove, remove_alert
from incidents.membership.undo import UndoResult, latest_undoable, undo_change, undo_refusal

__all__ = [
    "CLOSED_BY_MOVE_COMMENT",
    "AddPreview",
    "AddResult",
    "Correlated",
    "MergePreview",
    "MergeResult",
    "MovePreview",
    "MoveResult",
    "OtherIncident",
    "Placement",
    "RemoveResult",
    "UndoResult",
    "add_alerts",
    "correlate_new_alerts",
    "create_incident",
    "delete_relation",
    "highest_severity",
    "import_incidents",
    "incident_title_for",
    "is_provider_managed",
    "latest_undoable",
    "max_alerts",
    "merge_incidents",
    "move_alerts",
    "preview_add",
    "preview_merge",
    "preview_move",
    "preview_move_to",
    "preview_remove",
    "put_relation",
    "refresh_activity_times",
    "remove_alert",
    "undo_change",
    "undo_refusal",
]
