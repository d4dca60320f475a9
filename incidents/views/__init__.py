from incidents.views.alerts import alert_detail
from incidents.views.bulk import bulk_incidents
from incidents.views.exclusions import allow_entity, exclude_entity
from incidents.views.graph import (
    incident_graph,
    incident_graph_json,
    related_alerts,
    related_incidents,
)
from incidents.views.incidents import (
    incident_activity,
    incident_alerts,
    incident_detail,
    incident_entities,
    incident_entity,
    incident_similar,
)
from incidents.views.linking import incident_search, link_alerts
from incidents.views.merging import merge_incidents, undo_change
from incidents.views.panel import incident_panel
from incidents.views.queues import alert_list, incident_alert_rows, incident_list
from incidents.views.relating import add_alert, remove_alert
from incidents.views.rules import (
    rule_detail,
    rule_edit,
    rule_list,
    rule_move,
    rule_new,
    rule_test,
    rule_toggle,
    rules_test,
)
from incidents.views.triage import (
    add_comment,
    add_label,
    assign_owner,
    change_severity,
    change_status,
    close_incident,
    remove_label,
    reopen_incident,
)
from incidents.views.workspace import home, switch_workspace

__all__ = [
    "add_alert",
    "add_comment",
    "add_label",
    "alert_detail",
    "alert_list",
    "allow_entity",
    "assign_owner",
    "bulk_incidents",
    "change_severity",
    "change_status",
    "close_incident",
    "exclude_entity",
    "home",
    "incident_activity",
    "incident_alert_rows",
    "incident_alerts",
    "incident_detail",
    "incident_entities",
    "incident_entity",
    "incident_graph",
    "incident_graph_json",
    "incident_list",
    "incident_panel",
    "incident_search",
    "incident_similar",
    "link_alerts",
    "merge_incidents",
    "related_alerts",
    "related_incidents",
    "remove_alert",
    "remove_label",
    "reopen_incident",
    "rule_detail",
    "rule_edit",
    "rule_list",
    "rule_move",
    "rule_new",
    "rule_test",
    "rule_toggle",
    "rules_test",
    "switch_workspace",
    "undo_change",
]
