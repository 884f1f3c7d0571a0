from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.accounts.services import CredentialError, ensure_service_user, issue_token


class Command(BaseCommand):
    help = (
        "Create a service credential for a trusted service (e.g. an external proxy): a "
        "user that cannot log in, may post usage and budget checks for any customer tenant "
        "and nothing else. Prints its API token once, on its own line."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="The service's name, e.g. edge-proxy.")
        parser.add_argument(
            "--rotate", action="store_true", help="Replace the service's existing token."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            user = ensure_service_user(options["name"])
            token = issue_token(user, rotate=options["rotate"])
        except CredentialError as exc:
            raise CommandError(str(exc)) from exc
        self.stderr.write(f"Created a service token for {user.email}. It is shown once:")
        self.stdout.write(token.key)
