"""Balances derived from the ledger alone, and the audit that holds the counters to them.

Derivation (amounts signed; usage is negative):
- current period's budget = sum of its period_grant entries;
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
from django.db.models import Sum

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
    return out
