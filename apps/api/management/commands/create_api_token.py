from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from rest_framework.authtoken.models import Token

from apps.accounts.models import User
from apps.tenants.models import Membership


class Command(BaseCommand):
    help = (
        "Create a token for the billing and management API (staff or a tenant owner/admin) "
        "and print it once, on its own line."
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
        if not user.is_staff and not user.memberships.filter(role__in=admin_roles).exists():
            # Every endpoint would answer 403: a token would only be a secret to leak.
            raise CommandError("The API is for staff and tenant owners/admins only.")
        with transaction.atomic():
            existing = Token.objects.select_for_update().filter(user=user).first()
            if existing is not None:
                if not options["rotate"]:
                    raise CommandError("The user already has a token; pass --rotate to replace it.")
                existing.delete()
            token = Token.objects.create(user=user)
        self.stderr.write(f"Created an API token for {user.email}. It is shown once:")
        self.stdout.write(token.key)
