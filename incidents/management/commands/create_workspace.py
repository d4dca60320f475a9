"""`manage.py create_workspace NAME`: a new workspace with no incidents and the default
correlation rules (the admin site can do the same)."""

import uuid

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.validators import validate_slug
from django.db import transaction

from incidents.models import Membership, Role, Workspace
from incidents.rules.defaults import install_default_rules

RESOURCE_GROUP_LENGTH = Workspace._meta.get_field("resource_group").max_length


class Command(BaseCommand):
    help = "Create a new workspace with the default correlation rules."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="The workspace's name: letters, digits, '-' and '_'.")
        parser.add_argument("--display-name", default="", help="The name people read.")
        parser.add_argument(
            "--subscription-id", help="Azure-style subscription id (a UUID; default: a new one)."
        )
        parser.add_argument("--resource-group", default="triage", help="Default: triage.")
        parser.add_argument(
            "--member",
            action="append",
            default=[],
            metavar="USER[:ROLE]",
            help="Make an existing user a member: role reader, responder (default) or "
            "contributor. Repeat for several.",
        )

    def handle(self, *args, name: str, display_name: str, **options) -> None:
        max_length = Workspace._meta.get_field("name").max_length
        try:
            validate_slug(name)
        except ValidationError:
            raise CommandError(
                f"“{name}” is not a valid workspace name: use letters, digits, '-' and '_'."
            ) from None
        if len(name) > max_length:
            raise CommandError(f"A workspace name has at most {max_length} characters.")
        if Workspace.objects.filter(name=name).exists():
            raise CommandError(f"A workspace named “{name}” already exists.")
        subscription = self._subscription(options["subscription_id"])
        group = options["resource_group"].strip()
        if not group or len(group) > RESOURCE_GROUP_LENGTH or "/" in group:
            raise CommandError(
                f"--resource-group must be 1 to {RESOURCE_GROUP_LENGTH} characters, no '/'."
            )
        members = [self._member(spec) for spec in options["member"]]
        with transaction.atomic():
            workspace = Workspace.objects.create(
                name=name,
                display_name=display_name.strip(),
                subscription_id=subscription,
                resource_group=group,
            )
            for user, role in members:
                Membership.objects.create(workspace=workspace, user=user, role=role)
            rules = install_default_rules(workspace)
        self.stdout.write(f"Created workspace “{name}”: {workspace.resource_id}")
        for rule in rules:
            self.stdout.write(f"  Correlation rule: {rule.name}")
        for user, role in members:
            self.stdout.write(f"  {user.get_username()} is a {role} there.")

    def _subscription(self, raw: str | None) -> uuid.UUID:
        if raw is None:
            return uuid.uuid4()
        try:
            return uuid.UUID(raw)
        except ValueError:
            raise CommandError(f"--subscription-id “{raw}” is not a UUID.") from None

    def _member(self, spec: str):
        username, _, role = spec.partition(":")
        role = role or Role.RESPONDER
        if role not in Role.values:
            raise CommandError(
                f"--member {spec}: the role must be one of {', '.join(Role.values)}."
            )
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"--member {spec}: there is no user “{username}”.")
        return user, role
