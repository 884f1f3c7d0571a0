"""`manage.py audit_ledger`: counters, ledger and usage records must agree, per tenant.

Each tenant is read in one REPEATABLE READ snapshot: a settle writes its counters, ledger
entry and usage record in one transaction, so traffic during the audit shows no false
difference and is not blocked.
"""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import connection, transaction

from apps.billing.ledger import audit_tenant
from apps.billing.models import Budget, Scope
from apps.tenants.models import Tenant


class Command(BaseCommand):
    help = "Check that budget counters, the ledger and usage records agree; exit 1 if not."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", action="append", help="Tenant slug (repeatable).")

    def handle(self, *args: Any, **options: Any) -> None:
        ids = Budget.objects.filter(scope=Scope.TENANT).values_list("tenant_id", flat=True)
        tenants = Tenant.objects.filter(pk__in=ids).order_by("slug")
        if options["tenant"]:
            tenants = tenants.filter(slug__in=options["tenant"])
        differences = 0
        checked = 0
        for tenant in tenants:
            outermost = not connection.in_atomic_block
            with transaction.atomic():
                if outermost:  # inside a caller's transaction, its snapshot rules
                    with connection.cursor() as cur:
                        cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                problems = audit_tenant(tenant)
            checked += 1
            for problem in problems:
                self.stdout.write(f"{tenant.slug}: {problem}")
            differences += len(problems)
        if differences:
            self.stdout.write(f"{differences} difference(s) in {checked} tenant(s).")
            sys.exit(1)
        self.stdout.write(f"OK: {checked} tenant(s), counters, ledger and usage agree.")
