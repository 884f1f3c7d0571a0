"""Overage: spend beyond a subscribed plan's monthly budget, up to its overage cap, reported
to Stripe's billing meter so the next invoice charges it (docs/billing.md, "Overage").

A paid invoice grants `period_limit = monthly_budget + overage_cap`; spend uses that grant
first and credit after it. So the period's overage is

    min(overage_cap, max(0, spent - monthly_budget))

and spend beyond the whole grant comes out of prepaid credit, never the meter.

What was told to Stripe is kept per tenant and period (`OverageReport`, micro-USD,
cumulative). Each run sends only the delta since the last report, under an identifier
made of (tenant, period, cumulative total): a retry of the same report is the same meter
event, which Stripe counts once. The total being sent is committed before the call, so a
crash between the call and the bookkeeping re-sends that same identifier next time.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_DOWN, Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.billing.models import (
    ZERO,
    BillingAccount,
    Budget,
    BudgetPeriod,
    LedgerEntry,
    OverageReport,
    Scope,
)
from apps.billing.subscriptions import PLAN_STATUSES

logger = logging.getLogger(__name__)

MICRO_PER_USD = Decimal(1_000_000)
# Stripe accepts meter events up to 35 days old: a closed period is reported within that.
BACKDATE_LIMIT = timedelta(days=35)


def overage_amount(spent: Decimal, *, monthly_budget: Decimal, cap: Decimal | None) -> Decimal:
    """Spend above the plan's included budget, up to `cap` (None: uncapped, as the audit
    checks it: the cap of a past period may have changed since)."""
    above = max(ZERO, spent - monthly_budget)
    return above if cap is None else min(cap, above)


def to_micro(amount: Decimal) -> int:
    """Whole micro-USD, rounded down: the meter is never told more than was spent."""
    return int((amount * MICRO_PER_USD).to_integral_value(rounding=ROUND_DOWN))


def meter_identifier(tenant_id: int, period_start: datetime, total_micro: int) -> str:
    return f"cf-overage-{tenant_id}-{int(period_start.timestamp())}-{total_micro}"


def reporting_tenant_ids() -> list[int]:
    """Tenants whose plan comes from a subscription and allows overage."""
    return list(
        BillingAccount.objects.filter(
            subscription_status__in=PLAN_STATUSES,
            tenant__product__overage_cap__gt=0,
        )
        .exclude(stripe_customer_id__isnull=True)
        .exclude(stripe_customer_id="")
        .exclude(stripe_subscription_id="")
        .values_list("tenant_id", flat=True)
    )


@dataclass(frozen=True)
class Reported:
    tenant_id: int
    period_start: datetime
    value: int  # micro-USD sent in this event
    total: int  # cumulative micro-USD for the period after it
    identifier: str


def report_tenant(tenant_id: int, *, now: datetime | None = None) -> list[Reported]:
    """Report the tenant's overage deltas: the current period, and each recently closed
    paid period once more with its final total. Nothing is sent when nothing changed."""
    from apps.tenants.models import Tenant

    now = now or timezone.now()
    tenant = Tenant.objects.select_related("product").get(pk=tenant_id)
    account = BillingAccount.objects.get(tenant_id=tenant_id)
    product = tenant.product
    if product is None or product.overage_cap <= 0 or not account.stripe_customer_id:
        return []
    customer = account.stripe_customer_id
    reports = {r.period_start: r for r in OverageReport.objects.filter(tenant_id=tenant_id)}
    # Periods a paid invoice granted: the others were not on a subscription.
    paid_periods = set(
        LedgerEntry.objects.filter(tenant_id=tenant_id, kind=LedgerEntry.Kind.PERIOD_GRANT)
        .exclude(request_id="")
        .values_list("period", flat=True)
    )
    sent: list[Reported] = []
    for period in BudgetPeriod.objects.filter(
        tenant_id=tenant_id, end__gte=now - BACKDATE_LIMIT, start__in=paid_periods
    ).order_by("start"):
        known = reports.get(period.start)
        if known is not None and known.final:
            continue
        # Counted above the budget it was counted above while the period ran (the plan
        # may have changed since).
        base = known.monthly_budget if known is not None else product.monthly_budget
        total = to_micro(overage_amount(period.spent, monthly_budget=base, cap=product.overage_cap))
        # Timestamped inside the closed period, so Stripe bills it with that period.
        at = min(now, period.end - timedelta(seconds=1))
        sent += _report(tenant_id, customer, period.start, total, at, final=True, base=base)
    budget = Budget.objects.get(tenant_id=tenant_id, scope=Scope.TENANT)
    total = to_micro(
        overage_amount(budget.spent, monthly_budget=product.monthly_budget, cap=product.overage_cap)
    )
    sent += _report(
        tenant_id,
        customer,
        budget.period_start,
        total,
        now,
        final=False,
        base=product.monthly_budget,
    )
    return sent


def _report(
    tenant_id: int,
    customer_id: str,
    period_start: datetime,
    total: int,
    at: datetime,
    *,
    final: bool,
    base: Decimal,
) -> list[Reported]:
    from apps.billing import stripe_api

    sent: list[Reported] = []
    if (
        total <= 0
        and not OverageReport.objects.filter(
            tenant_id=tenant_id, period_start=period_start
        ).exists()
    ):
        return sent  # no overage, nothing ever sent: no row to keep
    # At most two rounds: a report left in flight by a crash (re-sent as it was), then ours.
    for _ in range(2):
        with transaction.atomic():
            OverageReport.objects.get_or_create(tenant_id=tenant_id, period_start=period_start)
            row = OverageReport.objects.select_for_update().get(
                tenant_id=tenant_id, period_start=period_start
            )
            if row.pending_micro > row.reported_micro:
                target = row.pending_micro
            elif total > row.reported_micro:
                target = row.pending_micro = total
                row.monthly_budget = base
                row.save(update_fields=["pending_micro", "monthly_budget", "updated_at"])
            else:
                if final and not row.final:
                    row.final = True
                    row.save(update_fields=["final", "updated_at"])
                return sent
            previous = row.reported_micro
        identifier = meter_identifier(tenant_id, period_start, target)
        stripe_api.create_meter_event(
            event_name=settings.STRIPE_OVERAGE_METER_EVENT,
            stripe_customer_id=customer_id,
            value=target - previous,
            identifier=identifier,
            timestamp=int(at.timestamp()),
        )
        with transaction.atomic():
            row = OverageReport.objects.select_for_update().get(pk=row.pk)
            row.reported_micro = max(row.reported_micro, target)
            row.final = row.final or (final and row.reported_micro >= total)
            row.save(update_fields=["reported_micro", "final", "updated_at"])
        sent.append(Reported(tenant_id, period_start, target - previous, target, identifier))
        logger.info(
            "billing.overage_reported tenant=%s period=%s value=%s total=%s",
            tenant_id,
            period_start.isoformat(),
            target - previous,
            target,
        )
    return sent
