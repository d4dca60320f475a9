"""`manage.py create_api_token USERNAME [--workspace W] [--scope all|ingest] [--name N]`:
print a new token once."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from incidents.api.tokens import create_token
from incidents.models import Membership, TokenScope, Workspace


class Command(BaseCommand):
    help = "Create an API token for a user and print it (it is shown only this once)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--workspace", help="Limit the token to this workspace (its name).")
        parser.add_argument("--name", default="", help="A label to tell tokens apart.")
        parser.add_argument(
            "--scope",
            choices=TokenScope.values,
            default=TokenScope.ALL,
            help="all: whatever the user may do (default); ingest: only send alerts "
            "(POST /api/workspaces/W/alerts), whatever the user's role. Needs --workspace.",
        )

    def handle(self, *args, username: str, workspace: str | None, name: str, scope: str, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"There is no user '{username}'.")
        if scope == TokenScope.INGEST and not workspace:
            raise CommandError("An ingestion token works in one workspace: add --workspace.")
        limit = None
        if workspace:
            limit = Workspace.objects.filter(name=workspace).first()
            if limit is None:
                raise CommandError(f"There is no workspace '{workspace}'.")
            if not Membership.objects.filter(user=user, workspace=limit).exists():
                raise CommandError(f"{username} is not a member of workspace '{workspace}'.")
        elif not Membership.objects.filter(user=user).exists():
            raise CommandError(f"{username} is not a member of any workspace yet.")
        token, raw = create_token(user, workspace=limit, name=name, scope=scope)
        where = f"workspace '{limit.name}'" if limit else "all of the user's workspaces"
        if scope == TokenScope.INGEST:
            where += ", for sending alerts only"
        self.stderr.write(f"Token {token.prefix}… for {username}, valid in {where}:")
        self.stdout.write(raw)
        self.stderr.write("Store it now: it is not shown again. Revoke it in the admin site.")
