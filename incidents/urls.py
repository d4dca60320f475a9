from django.urls import path

from incidents import views

app_name = "incidents"

urlpatterns = [
    path("", views.home, name="home"),
    path("incidents/", views.incident_list, name="incident_list"),
    path("incidents/<int:number>/", views.incident_detail, name="incident"),
    path("alerts/", views.alert_list, name="alert_list"),
    path("alerts/<uuid:system_alert_id>/", views.alert_detail, name="alert"),
]
