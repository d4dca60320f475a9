from django.urls import path

from incidents import views

app_name = "incidents"

urlpatterns = [
    path("", views.home, name="home"),
    path("workspace/", views.switch_workspace, name="switch_workspace"),
    path("incidents/", views.incident_list, name="incident_list"),
    path("incidents/search/", views.incident_search, name="incident_search"),
    path("incidents/<int:number>/", views.incident_detail, name="incident"),
    path("incidents/<int:number>/alerts/", views.incident_alerts, name="incident_alerts"),
    path(
        "incidents/<int:number>/alerts/rows/",
        views.incident_alert_rows,
        name="incident_alert_rows",
    ),
    path("incidents/<int:number>/entities/", views.incident_entities, name="incident_entities"),
    path("incidents/<int:number>/activity/", views.incident_activity, name="incident_activity"),
    path("alerts/", views.alert_list, name="alert_list"),
    path("alerts/link/", views.link_alerts, name="link_alerts"),
    path("alerts/<uuid:system_alert_id>/", views.alert_detail, name="alert"),
]
