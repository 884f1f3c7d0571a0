"""Balances derived from the ledger alone, and the audit that holds the counters to them.

Derivation (amounts signed; usage is negative):
- current period's budget = sum of its period_grant and grant_withdrawn entries;
- current period's spend  = -(sum of its usage and usage_conflict entries), per tenant,
                            member or key;
- credit balance          = sum of credit entries (purchase, grant, adjustment, refund)
                            minus, for every closed period, max(0, spend - grant): spend uses
                            the period's grant first, then credit.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db import connection
from django.db.models import Q, Sum

from apps.billing.models import ZERO, Budget, BudgetPeriod, LedgerEntry, Reservation, Scope

if TYPE_CHECKING:
    from apps.tenants.models import Tenant


@dataclass(frozen=True)
class LedgerBalance:
    period: datetime
    granted: Decimal
    spent: Decimal
    credit: Decimal
    closed: dict[datetime, tuple[Decimal, Decimal]]  # period -> (granted, spent)

    @property
    def remaining(self) -> Decimal:
        return self.granted + self.credit - self.spent


def ledger_balance(tenant_id: int, period: datetime) -> LedgerBalance:
    """The tenant's balances as the ledger alone tells them, for the period starting `period`."""
    sums: dict[tuple[datetime, str], Decimal] = defaultdict(lambda: ZERO)
    for row in (
        LedgerEntry.objects.filter(tenant_id=tenant_id)
        .values("period", "kind")
        .annotate(total=Sum("amount"))
        .order_by()
    ):
        kind = row["kind"]
        if kind in LedgerEntry.USAGE_KINDS:  # a conflicting charge is spend all the same
            kind = LedgerEntry.Kind.USAGE
        elif kind in LedgerEntry.GRANT_KINDS:  # a withdrawal takes back part of the grant
            kind = LedgerEntry.Kind.PERIOD_GRANT
        sums[(row["period"], kind)] += row["total"]
    periods = {p for p, _ in sums}
    credit = sum(
        (v for (_, kind), v in sums.items() if kind in LedgerEntry.CREDIT_KINDS), start=ZERO
    )
    closed: dict[datetime, tuple[Decimal, Decimal]] = {}
    for p in sorted(x for x in periods if x < period):
        granted = sums.get((p, LedgerEntry.Kind.PERIOD_GRANT), ZERO)
        spent = -sums.get((p, LedgerEntry.Kind.USAGE), ZERO)
        closed[p] = (granted, spent)
        credit -= max(ZERO, spent - granted)
    return LedgerBalance(
        period=period,
        granted=sums.get((period, LedgerEntry.Kind.PERIOD_GRANT), ZERO),
        spent=-sums.get((period, LedgerEntry.Kind.USAGE), ZERO),
        credit=credit,
        closed=closed,
    )


def _usage_mismatches(tenant: Tenant) -> list[tuple[str, Decimal | None, Decimal | None]]:
    """Requests whose usage record and usage ledger entries disagree (or one is missing).
    A zero-cost record without an entry is fine: nothing was charged. A `usage_conflict`
    entry always shows: its request id was charged twice from two sources."""
    table = f"{connection.ops.quote_name(tenant.schema_name)}.usage_usagerecord"
    sql = f"""
        SELECT COALESCE(l.request_id, u.request_id), -l.amount, u.cost
          FROM (SELECT request_id, sum(amount) AS amount FROM public.billing_ledgerentry
                 WHERE tenant_id = %s AND kind IN ('usage', 'usage_conflict')
                 GROUP BY request_id) l
          FULL OUTER JOIN (SELECT request_id, cost FROM {table}) u
            ON u.request_id = l.request_id
         WHERE (l.request_id IS NULL AND u.cost <> 0)
            OR (u.request_id IS NULL)
            OR (-l.amount <> u.cost)
         ORDER BY 1
    """  # noqa: S608 - the schema name is quoted; values are parameters
    with connection.cursor() as cur:
        cur.execute(sql, [tenant.pk])
        return list(cur.fetchall())


def _scope_label(b: Budget) -> str:
    if b.scope == Scope.MEMBER:
        return f"member {b.member_id}"
    if b.scope == Scope.KEY:
        return f"key {b.api_key_id}"
    return "tenant"


def audit_tenant(tenant: Tenant) -> list[str]:
    """Every way the counters, the ledger and the usage records disagree, as sentences."""
    rows = list(Budget.objects.filter(tenant=tenant))
    tenant_row = next((b for b in rows if b.scope == Scope.TENANT), None)
    if tenant_row is None:
        return ["no tenant budget row"]
    out: list[str] = []

    def check(what: str, counter: Decimal, ledger: Decimal) -> None:
        if counter != ledger:
            out.append(f"{what}: counter {counter} != ledger {ledger} (diff {counter - ledger})")

    current = tenant_row.period_start
    bal = ledger_balance(tenant.pk, current)
    check("tenant granted", tenant_row.limit or ZERO, bal.granted)
    check("tenant spent", tenant_row.spent, bal.spent)
    check("tenant credit", tenant_row.credit, bal.credit)

    for period in BudgetPeriod.objects.filter(tenant=tenant):
        granted, spent = bal.closed.get(period.start, (ZERO, ZERO))
        check(f"period {period.start:%Y-%m-%d %H:%M} granted", period.granted, granted)
        check(f"period {period.start:%Y-%m-%d %H:%M} spent", period.spent, spent)

    usage = LedgerEntry.objects.filter(
        tenant_id=tenant.pk, kind__in=LedgerEntry.USAGE_KINDS, period=current
    )
    by_member = dict(
        usage.values_list("member_id")
        .annotate(s=Sum("amount"))
        .order_by()
        .values_list("member_id", "s")
    )
    by_key = dict(
        usage.values_list("api_key_id")
        .annotate(s=Sum("amount"))
        .order_by()
        .values_list("api_key_id", "s")
    )
    held: dict[tuple[str, int | None], Decimal] = defaultdict(lambda: ZERO)
    for member_id, key_id, amount in Reservation.objects.filter(
        tenant=tenant, state=Reservation.State.HELD
    ).values_list("member_id", "api_key_id", "amount"):
        held[(Scope.TENANT, None)] += amount
        held[(Scope.MEMBER, member_id)] += amount
        held[(Scope.KEY, key_id)] += amount
    for b in rows:
        label = _scope_label(b)
        if b.scope == Scope.MEMBER:
            check(f"{label} spent", b.spent, -by_member.get(b.member_id, ZERO))
            check(f"{label} reserved", b.reserved, held[(Scope.MEMBER, b.member_id)])
        elif b.scope == Scope.KEY:
            check(f"{label} spent", b.spent, -by_key.get(b.api_key_id, ZERO))
            check(f"{label} reserved", b.reserved, held[(Scope.KEY, b.api_key_id)])
        else:
            check("tenant reserved", b.reserved, held[(Scope.TENANT, None)])

    for request_id, charged, recorded in _usage_mismatches(tenant):
        out.append(
            f"request {request_id}: ledger charged {charged if charged is not None else 'nothing'}"
            f", usage record {'missing' if recorded is None else f'cost {recorded}'}"
        )
    out += audit_stripe(tenant)
    return out


# --- The ledger against what Stripe was told ---------------------------------------------


def _paid_subscription_invoices(customer_id: str) -> set[str]:
    """Ids of the customer's paid subscription invoices, as dj-stripe stored them."""
    from djstripe.models import Invoice

    from apps.billing.subscriptions import invoice_subscription_id

    return {
        invoice.id
        for invoice in Invoice.objects.filter(
            Q(customer_id=customer_id) | Q(stripe_data__customer=customer_id)
        )
        if invoice.stripe_data.get("status") == "paid"
        and invoice_subscription_id(invoice.stripe_data)
    }


def _paid_topups(tenant: Tenant, customer_id: str) -> dict[str, Decimal]:
    """Paid top-up Checkout sessions of the tenant dj-stripe stored: reference -> amount."""
    from djstripe.models import Session

    from apps.billing.subscriptions import topup_reference

    mine = Q(stripe_data__client_reference_id=str(tenant.pk)) | Q(
        stripe_data__metadata__tenant_id=str(tenant.pk)
    )
    if customer_id:
        mine |= Q(customer_id=customer_id) | Q(stripe_data__customer=customer_id)
    out: dict[str, Decimal] = {}
    for session in Session.objects.filter(mine, stripe_data__mode="payment"):
        data = session.stripe_data
        if (data.get("metadata") or {}).get("kind") == "topup" and data.get(
            "payment_status"
        ) == "paid":
            out[topup_reference(data)] = Decimal(int(data.get("amount_total") or 0)) / 100
    return out


def audit_stripe(tenant: Tenant) -> list[str]:
    """Where the ledger and Stripe (dj-stripe's copies, and our overage reports) disagree:
    each paid subscription invoice has exactly one period grant and each grant an invoice;
    each paid top-up exactly one credit purchase of its amount and each purchase a top-up;
    reported overage never exceeds the ledger's spend above the plan's monthly budget."""
    from apps.billing.models import BillingAccount, OverageReport
    from apps.billing.overage import overage_amount, to_micro

    account = BillingAccount.objects.filter(tenant=tenant).first()
    customer_id = (account.stripe_customer_id or "") if account else ""
    out: list[str] = []
    ledger = LedgerEntry.objects.filter(tenant_id=tenant.pk)

    grants: dict[str, int] = defaultdict(int)
    for reference in (
        ledger.filter(kind=LedgerEntry.Kind.PERIOD_GRANT)
        .exclude(request_id="")
        .values_list("request_id", flat=True)
    ):
        grants[reference] += 1
    invoices = _paid_subscription_invoices(customer_id) if customer_id else set()
    for invoice_id in sorted(invoices | set(grants)):
        if invoice_id not in invoices:
            out.append(f"period grant for invoice {invoice_id}, not a paid invoice in Stripe")
        elif grants[invoice_id] != 1:
            out.append(f"paid invoice {invoice_id}: {grants[invoice_id]} period grants, not 1")

    purchases: dict[str, list[Decimal]] = defaultdict(list)
    for reference, amount in ledger.filter(kind=LedgerEntry.Kind.CREDIT_PURCHASE).values_list(
        "request_id", "amount"
    ):
        purchases[reference].append(amount)
    topups = _paid_topups(tenant, customer_id)
    for reference in sorted(set(topups) | set(purchases)):
        if reference not in topups:
            out.append(f"credit purchase {reference or '(no reference)'}: no paid top-up in Stripe")
        elif purchases[reference] != [topups[reference]]:
            out.append(
                f"top-up {reference} of {topups[reference]}: credit purchases "
                f"{[str(a) for a in purchases[reference]] or 'none'}"
            )

    for report in OverageReport.objects.filter(tenant=tenant):
        spent = -(
            ledger.filter(kind__in=LedgerEntry.USAGE_KINDS, period=report.period_start).aggregate(
                s=Sum("amount")
            )["s"]
            or ZERO
        )
        allowed = to_micro(overage_amount(spent, monthly_budget=report.monthly_budget, cap=None))
        if max(report.reported_micro, report.pending_micro) > allowed:
            out.append(
                f"overage {report.period_start:%Y-%m-%d %H:%M}: reported "
                f"{max(report.reported_micro, report.pending_micro)} micro-USD, the ledger's "
                f"spend above {report.monthly_budget} is {allowed}"
            )
    return out
