from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.analytics.services import aggregate_tenant
from apps.tenants.models import Tenant


class Command(BaseCommand):
    help = (
        "Roll usage records up now (what the periodic task does). --full rebuilds from every "
        "record, which repairs records that committed later than the safety margin."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", help="Only this tenant (slug)")
        parser.add_argument("--full", action="store_true", help="Rebuild from all records")

    def handle(self, *args: Any, **options: Any) -> None:
        tenants = Tenant.objects.filter(kind=Tenant.Kind.CUSTOMER).order_by("pk")
        if options["tenant"]:
            tenants = tenants.filter(slug=options["tenant"])
            if not tenants.exists():
                raise CommandError(f"No tenant with slug '{options['tenant']}'.")
        for tenant in tenants:
            stats = aggregate_tenant(tenant, full=options["full"])
            self.stdout.write(
                f"{tenant.slug}: {stats.hourly_rows} hourly, {stats.daily_rows} daily rows "
                f"since {stats.since.isoformat()}"
            )
