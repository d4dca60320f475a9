from django.conf import settings
from django.urls import include, path
from django.utils.csp import CSP
from django.views.decorators.csp import csp_override
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from incidents.api import ingest, views

INCIDENT = "incidents/<str:incident_id>"

sentinel = [
    path("incidents", views.incident_list, name="incident_list"),
    path(INCIDENT, views.incident_detail, name="incident"),
    path(f"{INCIDENT}/relations", views.relation_list, name="relation_list"),
    path(f"{INCIDENT}/relations/<str:relation_name>", views.relation_detail, name="relation"),
    path(f"{INCIDENT}/merge", views.incident_merge, name="incident_merge"),
    path(f"{INCIDENT}/alerts", views.incident_alerts, name="incident_alerts"),
    path(f"{INCIDENT}/entities", views.incident_entities, name="incident_entities"),
    path(f"{INCIDENT}/comments", views.comment_list, name="comment_list"),
    path(f"{INCIDENT}/comments/<str:comment_id>", views.comment_detail, name="comment"),
]

# The split view serves its start-up script as a file, so scripts stay strict; Swagger UI
# sets inline styles, which this page alone allows.
docs = csp_override({**settings.SECURE_CSP, "style-src": [CSP.SELF, CSP.UNSAFE_INLINE]})(
    SpectacularSwaggerSplitView.as_view(url_name="api:schema")
)

urlpatterns = [
    path("api/workspaces", views.workspaces, name="workspaces"),
    path("api/workspaces/<str:workspace_name>/alerts", ingest.ingest_alerts, name="ingest"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", docs, name="docs"),
    path(
        "subscriptions/<str:subscription_id>/resourceGroups/<str:resource_group>"
        "/providers/Microsoft.OperationalInsights/workspaces/<str:workspace_name>"
        "/providers/Microsoft.SecurityInsights/",
        include(sentinel),
    ),
]
