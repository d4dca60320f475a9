from incidents.views.alerts import alert_detail
from incidents.views.incidents import (
    incident_activity,
    incident_alerts,
    incident_detail,
    incident_entities,
)
from incidents.views.linking import incident_search, link_alerts
from incidents.views.queues import alert_list, incident_alert_rows, incident_list
from incidents.views.workspace import home, switch_workspace

__all__ = [
    "alert_detail",
    "alert_list",
    "home",
    "incident_activity",
    "incident_alert_rows",
    "incident_alerts",
    "incident_detail",
    "incident_entities",
    "incident_list",
    "incident_search",
    "link_alerts",
    "switch_workspace",
]
