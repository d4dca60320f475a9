"""The security log: who signed in, failed, was locked out, or changed who may do what."""

from django.conf import settings
from django.db import models
from django.utils import timezone


class EventKind(models.TextChoices):
    SIGNED_IN = "signed_in", "Signed in"
    SIGNED_OUT = "signed_out", "Signed out"
    SIGN_IN_FAILED = "sign_in_failed", "Sign-in failed"
    LOCKED_OUT = "locked_out", "Locked out"
    TOKEN_CREATED = "token_created", "API token created"
    TOKEN_REVOKED = "token_revoked", "API token revoked"
    ROLE_CHANGED = "role_changed", "Role changed"
    RULE_CHANGED = "rule_changed", "Correlation rule changed"


class SecurityEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError("The security log is append-only.")

    def delete(self):
        raise TypeError("The security log is append-only.")


class SecurityEvent(models.Model):
    """One line of the append-only security log. Written by `audit.record`."""

    kind = models.CharField(max_length=32, choices=EventKind)
    # Who did it; kept (PROTECT) because the log cannot be rewritten to forget them.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="security_events",
    )
    # The actor's name then, the username a failed sign-in tried, or "command line".
    actor_name = models.CharField(max_length=200)
    address = models.GenericIPAddressField(null=True, blank=True)
    message = models.TextField()
    details = models.JSONField(default=dict, blank=True)
    created = models.DateTimeField(default=timezone.now, db_index=True)

    objects = SecurityEventQuerySet.as_manager()

    class Meta:
        ordering = ["-created", "-id"]

    def __str__(self) -> str:
        return self.message

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise TypeError("The security log is append-only.")
        # An insert or nothing: a preset primary key must not overwrite an event.
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("The security log is append-only.")
