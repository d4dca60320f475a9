"""Sign-in, sign-out and password change; password reset only where e-mail can be sent."""

from django.conf import settings
from django.contrib.auth import urls as auth_urls

RESET_ROUTES = {
    "password_reset",
    "password_reset_done",
    "password_reset_confirm",
    "password_reset_complete",
}

urlpatterns = [
    pattern
    for pattern in auth_urls.urlpatterns
    if settings.TRIAGE_PASSWORD_RESET or pattern.name not in RESET_ROUTES
]
