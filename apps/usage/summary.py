"""A tenant's usage totals since a moment (the portal's "this period" figures).

One aggregate query over the tenant's own usage records, with the schema switched for the
query only. Issue 10's charts read the hourly rollups instead; this stays the cheap
"how much so far" answer for the current period (the records' `created_at` is indexed).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import Count, DecimalField, Q, Sum, Value
from django.db.models.functions import Coalesce
from django_tenants.utils import tenant_context

from apps.tenants.models import Tenant
from apps.usage.models import MONEY, UsageRecord

ZERO = Decimal(0)


@dataclass(frozen=True)
class PeriodSummary:
    requests: int
    errors: int
    prompt_tokens: int
    completion_tokens: int
    cost: Decimal

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


def period_summary(tenant: Tenant, since: datetime) -> PeriodSummary:
    """Requests (errors among them), tokens and cost of `tenant` from `since` on."""
    # Errors are counted by the same statuses the analytics rollups count, so the dashboard
    # and the usage API never disagree about what an error is.
    with tenant_context(tenant):
        row = UsageRecord.objects.filter(created_at__gte=since).aggregate(
            requests=Count("id"),
            errors=Count("id", filter=Q(status__in=UsageRecord.ERROR_STATUSES)),
            prompt_tokens=Coalesce(Sum("prompt_tokens"), 0),
            completion_tokens=Coalesce(Sum("completion_tokens"), 0),
            cost=Coalesce(Sum("cost"), Value(ZERO), output_field=DecimalField(**MONEY)),
        )
    return PeriodSummary(
        requests=row["requests"],
        errors=row["errors"],
        prompt_tokens=row["prompt_tokens"],
        completion_tokens=row["completion_tokens"],
        cost=row["cost"],
    )
