"""What `make run` does before serving, in one process (each `manage.py` start costs
seconds of imports): migrate the public schema, bootstrap the public and template
tenants, migrate the tenant schemas, seed the demo, collect static files. Prints, and with
--timings writes as JSON, the seconds each phase took."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Migrate, bootstrap, seed the demo and collect static files; time each phase."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--timings", help="write {phase: seconds} as JSON to this file")
        parser.add_argument(
            "--no-collectstatic",
            action="store_true",
            help="leave static files out (`make run` collects them in parallel)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        phases: dict[str, float] = {}

        started = time.monotonic()
        call_command("migrate_schemas", shared=True, interactive=False, verbosity=0)
        call_command("bootstrap", stdout=self.stdout)
        call_command("migrate_schemas", tenant=True, interactive=False, verbosity=0)
        phases["migrations"] = time.monotonic() - started

        started = time.monotonic()
        call_command("seed_demo", stdout=self.stdout)
        phases["seed"] = time.monotonic() - started

        if settings.STRIPE_WEBHOOK_SECRET:
            # The endpoint row dj-stripe verifies Stripe's signatures with (no Stripe call).
            from apps.billing.stripe_webhooks import ensure_webhook_endpoint, webhook_path

            endpoint = ensure_webhook_endpoint()
            self.stdout.write(f"Stripe webhook: {webhook_path(endpoint.djstripe_uuid)}")

        if not options["no_collectstatic"]:
            started = time.monotonic()
            call_command("collectstatic", interactive=False, verbosity=0)
            phases["static files"] = time.monotonic() - started

        self.stdout.write(", ".join(f"{name} {s:.1f} s" for name, s in phases.items()))
        if options["timings"]:
            Path(options["timings"]).write_text(json.dumps(phases))
