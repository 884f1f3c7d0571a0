from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.keys.models import ApiKey
from apps.keys.services import revoke_api_key


class Command(BaseCommand):
    help = "Revoke an API key by its prefix (cfk_xxxxxxxxxx)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("prefix")

    def handle(self, *args: Any, **options: Any) -> None:
        key = ApiKey.objects.filter(prefix=options["prefix"]).first()
        if key is None:
            raise CommandError(f"No key with prefix '{options['prefix']}'.")
        revoke_api_key(key)
        self.stdout.write(f"Revoked {key.prefix} ({key.name}) of {key.tenant.slug}.")
