"""Refusals of `incidents.membership` and `incidents.actions`, as typed errors.

Each carries two texts: `message`, the words of Microsoft Sentinel's API (the seeds'
error table, placeholders filled, reused verbatim by the REST API), and `user_message`,
the same refusal in plain words for the web app. `status` is the HTTP status the API
answers with and `code` its error code.
"""

from incidents.models import Alert, Bookmark, Incident


class TriageError(Exception):
    status = 400
    code = "BadRequest"

    def __init__(self, message: str, user_message: str | None = None):
        super().__init__(message)
        self.message = message
        self.user_message = user_message or message


class MembershipError(TriageError):
    """A change of alert membership that the rules forbid. Nothing was changed."""


def _name(alert: Alert) -> str:
    return f"“{alert.display_name}”"


class AlertAlreadyInIncident(MembershipError):
    def __init__(self, alert: Alert, incident: Incident):
        super().__init__(
            f"Failed to create relation. Alert {alert.system_alert_id} already exists in "
            f"incident {incident.uuid}.",
            f"Alert {_name(alert)} is already in incident #{incident.number}.",
        )


class BookmarkAlreadyInIncident(MembershipError):
    def __init__(self, bookmark: Bookmark, incident: Incident):
        super().__init__(
            f"Failed to create relation. Bookmark {bookmark.bookmark_id} already exists in "
            f"incident {incident.uuid}.",
            f"Bookmark “{bookmark.display_name}” is already in incident #{incident.number}.",
        )


class DifferentWorkspace(MembershipError):
    def __init__(self, resource: Alert | Bookmark, incident: Incident):
        super().__init__(
            "Failed to create relation. Related resource and incident should belong to the "
            "same workspace.",
            f"“{resource}” and incident #{incident.number} are in different workspaces; "
            "an alert can only join an incident of its own workspace.",
        )


class ProviderManagedAdd(MembershipError):
    def __init__(self, alert: Alert, incident: Incident):
        provider = incident.provider_name
        super().__init__(
            f"Failed to create relation. {provider} alerts cannot be added to {provider} "
            "incidents.",
            f"{provider} alerts cannot be added to {provider} incidents here: {provider} "
            f"correlates its own alerts. Make this change in {provider} itself "
            f"(alert {_name(alert)}, incident #{incident.number}).",
        )


class ProviderManagedRemove(MembershipError):
    def __init__(self, alert: Alert, incident: Incident):
        provider = incident.provider_name
        super().__init__(
            f"Failed to delete relation. {provider} alerts cannot be removed from {provider} "
            "incidents.",
            f"{provider} alerts cannot be removed from {provider} incidents here: {provider} "
            f"correlates its own alerts. Make this change in {provider} itself "
            f"(alert {_name(alert)}, incident #{incident.number}).",
        )


class IncidentFull(MembershipError):
    def __init__(self, incident: Incident, adding: int, limit: int):
        super().__init__(
            f"Failed to create relation. Incident {incident.uuid} already contains "
            f"{incident.alert_count} alerts; an incident can contain at most {limit} alerts.",
            f"Incident #{incident.number} has {incident.alert_count} alerts; adding {adding} "
            f"more would pass the limit of {limit} alerts per incident. Nothing was changed.",
        )


class LastIncident(MembershipError):
    def __init__(self, alert: Alert, incident: Incident):
        super().__init__(
            f"Failed to delete relation. Alert {alert.system_alert_id} belongs to no other "
            f"incident than {incident.uuid}, and every alert must belong to an incident: link "
            "it to another incident instead of removing it.",
            f"Alert {_name(alert)} belongs to no other incident than #{incident.number}, and "
            "every alert must belong to an incident. Link it to another incident instead "
            "(“Link alerts to another incident”).",
        )


class AlertNotInIncident(MembershipError):
    status = 404
    code = "NotFound"

    def __init__(self, alert: Alert, incident: Incident):
        super().__init__(
            f"Alert {alert.system_alert_id} is not related to incident {incident.uuid}.",
            f"Alert {_name(alert)} is not in incident #{incident.number} (any more).",
        )


class ResourceNotFound(MembershipError):
    status = 404
    code = "NotFound"

    def __init__(self, resource_id: object):
        super().__init__(
            f"Resource '{resource_id}' does not exist.",
            f"Alert {resource_id} does not exist (any more).",
        )


class IncidentNotFound(MembershipError):
    status = 404
    code = "NotFound"

    def __init__(self):
        super().__init__("Incident doesn’t exist.", "That incident does not exist (any more).")


class RelationTypeConflict(MembershipError):
    def __init__(self, name: str, incident: Incident):
        super().__init__(
            f"Failed to create relation. Different relation type with name {name} already "
            f"exists in incident {incident.uuid}.",
        )


class RelationNameTaken(MembershipError):
    status = 409
    code = "Conflict"

    def __init__(self, name: str, incident: Incident, other: Alert | Bookmark):
        if isinstance(other, Alert):
            other_text = f"alert {other.system_alert_id}"
        else:
            other_text = f"bookmark {other.bookmark_id}"
        super().__init__(
            f"Failed to create relation. Relation with name {name} already exists in incident "
            f"{incident.uuid} to different {other_text}.",
        )


class NothingToMove(MembershipError):
    def __init__(self, user_message: str):
        super().__init__(user_message)


class InvalidChange(TriageError):
    """A triage action with values that do not fit (a reason that does not match, …)."""


# --- merge ---------------------------------------------------------------------


class MergeRefused(MembershipError):
    """A merge the rules forbid; `message` and `user_message` are the same plain words."""

    def __init__(self, text: str):
        super().__init__(text)


class MergeIntoItself(MergeRefused):
    def __init__(self, incident: Incident):
        super().__init__(f"Incident #{incident.number} cannot be merged into itself.")


class MergeAcrossWorkspaces(MergeRefused):
    def __init__(self, source: Incident, target: Incident):
        super().__init__(
            f"Incident #{source.number} is in another workspace than incident "
            f"#{target.number}; only incidents of one workspace can be merged."
        )


class MergeTooLarge(MergeRefused):
    status = 400

    def __init__(self, target: Incident, total: int, limit: int):
        super().__init__(
            f"The merged incident #{target.number} would hold {total} alerts, more than the "
            f"limit of {limit} alerts per incident. Merge fewer incidents at once, or first "
            "link some alerts to another incident (split it)."
        )


class MergeProviderManaged(MergeRefused):
    def __init__(self, incident: Incident):
        provider = incident.provider_name
        super().__init__(
            f"Incident #{incident.number} is a {provider} incident: {provider} correlates its "
            f"own alerts, so it cannot be merged here. Merge it in {provider} itself."
        )


class AlreadyMerged(MergeRefused):
    def __init__(self, incident: Incident, into: Incident):
        super().__init__(
            f"Incident #{incident.number} was already merged into #{into.number}; "
            f"use #{into.number} instead."
        )


class TooManySources(MergeRefused):
    def __init__(self, count: int, limit: int):
        super().__init__(
            f"{count} incidents were chosen; at most {limit} can be merged into another at once."
        )


class NothingToMerge(MergeRefused):
    def __init__(self):
        super().__init__("Choose at least one incident to merge into another.")


# --- undo ----------------------------------------------------------------------


class UndoRefused(MembershipError):
    """An undo that would not restore what was there; nothing was changed."""

    status = 409
    code = "Conflict"

    def __init__(self, text: str):
        super().__init__(text)
