from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.utils.functional import lazy
from django.views.generic import RedirectView

urlpatterns = [
    path("admin/", admin.site.urls),
    # Browsers ask for /favicon.ico on pages (the admin's) that name no icon.
    # Resolved when asked: before `collectstatic` the manifest has no entry to look up yet.
    path("favicon.ico", RedirectView.as_view(url=lazy(static, str)("favicon.svg"), permanent=True)),
    path("accounts/", include("accounts.urls")),
    path("", include(("incidents.api.urls", "api"))),
    path("", include("incidents.urls")),
]
