from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.keys.services import KeyError_, create_api_key
from apps.tenants.models import Tenant


class Command(BaseCommand):
    help = "Create an API key for a tenant and print the secret once, on its own line."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", required=True, help="Tenant slug")
        parser.add_argument("--name", default="default")
        parser.add_argument("--models", default="", help="Comma-separated allowed models")
        parser.add_argument("--rpm", type=int, default=None)
        parser.add_argument("--tpm", type=int, default=None)

    def handle(self, *args: Any, **options: Any) -> None:
        tenant = Tenant.objects.filter(slug=options["tenant"], kind=Tenant.Kind.CUSTOMER).first()
        if tenant is None:
            raise CommandError(f"No tenant with slug '{options['tenant']}'.")
        models = [m.strip() for m in options["models"].split(",") if m.strip()]
        try:
            new = create_api_key(
                tenant=tenant,
                name=options["name"],
                allowed_models=models,
                rpm_limit=options["rpm"],
                tpm_limit=options["tpm"],
            )
        except KeyError_ as exc:
            raise CommandError(str(exc)) from exc
        self.stderr.write(f"Created key {new.key.prefix} for {tenant.slug}. It is shown once:")
        self.stdout.write(new.secret)
