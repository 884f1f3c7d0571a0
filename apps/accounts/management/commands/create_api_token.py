from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.accounts.models import User
from apps.accounts.services import INGEST_USAGE, CredentialError, issue_token
from apps.tenants.models import Membership


class Command(BaseCommand):
    help = (
        "Create a token for the billing and management API (staff or a tenant owner/admin) "
        "and print it once, on its own line. For a machine, use create_service_token."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email")
        parser.add_argument(
            "--rotate", action="store_true", help="Replace the user's existing token."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(email__iexact=options["email"]).first()
        if user is None or not user.is_active:
            raise CommandError(f"No active user with email '{options['email']}'.")
        admin_roles = (Membership.Role.OWNER, Membership.Role.ADMIN)
        may_use_api = (
            user.is_staff
            or user.has_perm(INGEST_USAGE)
            or user.memberships.filter(role__in=admin_roles).exists()
        )
        if not may_use_api:
            # Every endpoint would answer 403: a token would only be a secret to leak.
            raise CommandError("The API is for staff and tenant owners/admins only.")
        try:
            token = issue_token(user, rotate=options["rotate"])
        except CredentialError as exc:
            raise CommandError(str(exc)) from exc
        self.stderr.write(f"Created an API token for {user.email}. It is shown once:")
        self.stdout.write(token.key)
