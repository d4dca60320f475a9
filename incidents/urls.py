from django.urls import path

from incidents import views

app_name = "incidents"

urlpatterns = [
    path("", views.home, name="home"),
    path("workspace/", views.switch_workspace, name="switch_workspace"),
    path("incidents/", views.incident_list, name="incident_list"),
    path("incidents/search/", views.incident_search, name="incident_search"),
    path("incidents/merge/", views.merge_incidents, name="merge_incidents"),
    path("incidents/bulk/", views.bulk_incidents, name="bulk_incidents"),
    path("incidents/<int:number>/", views.incident_detail, name="incident"),
    path("incidents/<int:number>/alerts/", views.incident_alerts, name="incident_alerts"),
    path(
        "incidents/<int:number>/alerts/rows/",
        views.incident_alert_rows,
        name="incident_alert_rows",
    ),
    path(
        "incidents/<int:number>/alerts/<uuid:system_alert_id>/add/",
        views.add_alert,
        name="add_alert",
    ),
    path(
        "incidents/<int:number>/alerts/<uuid:system_alert_id>/remove/",
        views.remove_alert,
        name="remove_alert",
    ),
    path("incidents/<int:number>/entities/", views.incident_entities, name="incident_entities"),
    path(
        "incidents/<int:number>/entities/<int:entity_id>/",
        views.incident_entity,
        name="incident_entity",
    ),
    path(
        "incidents/<int:number>/entities/<int:entity_id>/exclude/",
        views.exclude_entity,
        name="exclude_entity",
    ),
    path(
        "incidents/<int:number>/entities/<int:entity_id>/allow/",
        views.allow_entity,
        name="allow_entity",
    ),
    path("incidents/<int:number>/graph/", views.incident_graph, name="incident_graph"),
    path(
        "incidents/<int:number>/graph.json",
        views.incident_graph_json,
        name="incident_graph_json",
    ),
    path(
        "incidents/<int:number>/graph/entities/<int:entity_id>/related-alerts.json",
        views.related_alerts,
        name="graph_related_alerts",
    ),
    path(
        "incidents/<int:number>/graph/entities/<int:entity_id>/related-incidents.json",
        views.related_incidents,
        name="graph_related_incidents",
    ),
    path("incidents/<int:number>/activity/", views.incident_activity, name="incident_activity"),
    path("incidents/<int:number>/owner/", views.assign_owner, name="assign_owner"),
    path("incidents/<int:number>/status/", views.change_status, name="change_status"),
    path("incidents/<int:number>/severity/", views.change_severity, name="change_severity"),
    path("incidents/<int:number>/labels/", views.add_label, name="add_label"),
    path("incidents/<int:number>/labels/remove/", views.remove_label, name="remove_label"),
    path("incidents/<int:number>/similar/", views.incident_similar, name="incident_similar"),
    path("incidents/<int:number>/panel/", views.incident_panel, name="incident_panel"),
    path("incidents/<int:number>/close/", views.close_incident, name="close_incident"),
    path("incidents/<int:number>/reopen/", views.reopen_incident, name="reopen_incident"),
    path("incidents/<int:number>/comment/", views.add_comment, name="add_comment"),
    path("alerts/", views.alert_list, name="alert_list"),
    path("alerts/link/", views.link_alerts, name="link_alerts"),
    path("alerts/<uuid:system_alert_id>/", views.alert_detail, name="alert"),
    path("changes/<uuid:change>/undo/", views.undo_change, name="undo_change"),
    path("rules/", views.rule_list, name="rules"),
    path("rules/new/", views.rule_new, name="rule_new"),
    path("rules/test/", views.rules_test, name="rules_test"),
    path("rules/<int:rule_id>/", views.rule_detail, name="rule"),
    path("rules/<int:rule_id>/edit/", views.rule_edit, name="rule_edit"),
    path("rules/<int:rule_id>/enabled/", views.rule_toggle, name="rule_toggle"),
    path("rules/<int:rule_id>/move/", views.rule_move, name="rule_move"),
    path("rules/<int:rule_id>/test/", views.rule_test, name="rule_test"),
]
