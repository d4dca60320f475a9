"""What goes into the security log, taken from Django's, axes' and the models' signals."""

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver

from audit.models import EventKind
from audit.record import record
from incidents.models import ApiToken, Membership, RuleChange


@receiver(user_logged_in, dispatch_uid="audit_signed_in")
def signed_in(sender, request, user, **kwargs) -> None:
    record(EventKind.SIGNED_IN, f"{user.get_username()} signed in.", request=request, actor=user)


@receiver(user_logged_out, dispatch_uid="audit_signed_out")
def signed_out(sender, request, user, **kwargs) -> None:
    if user is not None:
        record(
            EventKind.SIGNED_OUT, f"{user.get_username()} signed out.", request=request, actor=user
        )


@receiver(user_login_failed, dispatch_uid="audit_sign_in_failed")
def sign_in_failed(sender, credentials, request=None, **kwargs) -> None:
    # Whatever was typed, cut to a username's length: a megabyte of it is not kept.
    username = str(credentials.get("username", ""))[:150]
    record(
        EventKind.SIGN_IN_FAILED,
        f"A sign-in as {username or '(no username)'} failed.",
        request=request,
        actor_name=username,
    )


@receiver(user_locked_out, dispatch_uid="audit_locked_out")
def locked_out(sender, request, username, ip_address, **kwargs) -> None:
    username = (username or "")[:150]
    record(
        EventKind.LOCKED_OUT,
        f"Sign-ins as {username or '(no username)'} or from {ip_address} are locked out "
        "after too many failures.",
        request=request,
        actor_name=username,
    )


def _token_details(token: ApiToken) -> dict:
    return {
        "token": token.prefix,
        "user": token.user.get_username(),
        "workspace": token.workspace.name if token.workspace else None,
        "scope": token.scope,
    }


@receiver(post_save, sender=ApiToken, dispatch_uid="audit_token_saved")
def token_saved(sender, instance: ApiToken, created: bool, update_fields=None, **kwargs) -> None:
    if created:
        message = f"API token {instance.prefix}… created for {instance.user.get_username()}."
        record(EventKind.TOKEN_CREATED, message, details=_token_details(instance))
    elif instance.revoked and update_fields and "revoked" in update_fields:
        message = f"API token {instance.prefix}… of {instance.user.get_username()} revoked."
        record(EventKind.TOKEN_REVOKED, message, details=_token_details(instance))


@receiver(pre_save, sender=Membership, dispatch_uid="audit_membership_before")
def membership_before(sender, instance: Membership, **kwargs) -> None:
    # The role it had, to log "reader → responder"; None for a new membership.
    instance._audit_role_before = (
        Membership.objects.filter(pk=instance.pk).values_list("role", flat=True).first()
        if instance.pk
        else None
    )


def _membership_details(membership: Membership, before: str | None, after: str | None) -> dict:
    return {
        "user": membership.user.get_username(),
        "workspace": membership.workspace.name,
        "role": [before, after],
    }


@receiver(post_save, sender=Membership, dispatch_uid="audit_membership_saved")
def membership_saved(sender, instance: Membership, created: bool, **kwargs) -> None:
    before = getattr(instance, "_audit_role_before", None)
    if before == instance.role:
        return
    who, where = instance.user.get_username(), instance.workspace.name
    if before is None:
        message = f"{who} joined workspace {where} as {instance.get_role_display()}."
    else:
        message = f"{who}'s role in workspace {where} changed from {before} to {instance.role}."
    record(
        EventKind.ROLE_CHANGED,
        message,
        details=_membership_details(instance, before, instance.role),
    )


@receiver(post_delete, sender=Membership, dispatch_uid="audit_membership_deleted")
def membership_deleted(sender, instance: Membership, **kwargs) -> None:
    who, where = instance.user.get_username(), instance.workspace.name
    record(
        EventKind.ROLE_CHANGED,
        f"{who} was removed from workspace {where} (was {instance.role}).",
        details=_membership_details(instance, instance.role, None),
    )


@receiver(post_save, sender=RuleChange, dispatch_uid="audit_rule_changed")
def rule_changed(sender, instance: RuleChange, created: bool, **kwargs) -> None:
    if not created:
        return
    rule = instance.rule
    record(
        EventKind.RULE_CHANGED,
        f"Correlation rule “{rule.name}” in workspace {rule.workspace.name}: {instance.summary}.",
        actor=instance.actor,
        actor_name=instance.actor_name,
        details={"rule": rule.pk, "rule_change": instance.pk, "workspace": rule.workspace.name},
    )
