"""Budget workflows for pages, the API, staff and Celery (synchronous, Django ORM).

Every writer takes the tenant's budget row lock first (`lock_tenant_budget`), the same
order the PL/pgSQL hot path uses, so these never deadlock with requests in flight.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from apps.billing.models import ZERO, Budget, BudgetPeriod, LedgerEntry, Reservation, Scope
from apps.billing.periods import next_reset_after, period_containing

if TYPE_CHECKING:
    from apps.accounts.models import User
    from apps.keys.models import ApiKey
    from apps.tenants.models import Membership, Tenant

logger = logging.getLogger(__name__)


class BillingError(ValueError):
    pass


def _plan_grant(tenant: Tenant) -> Decimal:
    # No plan yet (a fresh signup): nothing to spend but credit. Never silently unlimited.
    if not tenant.product_id:
        return ZERO
    from apps.billing.subscriptions import grant_waits_for_invoice

    # A Stripe subscriber's period is granted by its paid invoice (docs/billing.md), not by
    # the calendar: a reset before the invoice is paid starts the period with nothing.
    if grant_waits_for_invoice(tenant.pk):
        return ZERO
    return tenant.product.monthly_budget


def ensure_tenant_budget(tenant: Tenant, *, now: datetime | None = None) -> Budget:
    """The tenant's budget row and its first period grant. Idempotent."""
    existing = Budget.objects.filter(tenant=tenant, scope=Scope.TENANT).first()
    if existing is not None:
        return existing
    now = now or timezone.now()
    start, end = period_containing(tenant.billing_anchor, now)
    grant = _plan_grant(tenant)
    with transaction.atomic():
        budget = Budget.objects.create(
            tenant=tenant, scope=Scope.TENANT, limit=grant, period_start=start, next_reset_at=end
        )
        LedgerEntry.objects.create(
            tenant=tenant,
            kind=LedgerEntry.Kind.PERIOD_GRANT,
            amount=grant,
            period=start,
            created_at=now,
            note="First period.",
        )
    return budget


def on_tenant_created(sender: Any, tenant: Tenant, **kwargs: Any) -> None:
    ensure_tenant_budget(tenant)


def lock_tenant_budget(tenant_id: int) -> Budget:
    return Budget.objects.select_for_update().get(tenant_id=tenant_id, scope=Scope.TENANT)


def _scope_view(b: Budget) -> dict[str, Any]:
    view: dict[str, Any] = {
        "scope": b.scope,
        "limit": b.limit,
        "spent": b.spent,
        "reserved": b.reserved,
        "remaining": b.remaining,
        "period_start": b.period_start,
        "next_reset_at": b.next_reset_at,
    }
    if b.scope == Scope.TENANT:
        view["credit"] = b.credit
        view["available"] = b.available
        view["used"] = b.used
        view["credit_used"] = max(ZERO, b.spent - (b.limit or ZERO))
    elif b.scope == Scope.MEMBER:
        view["member_id"] = b.member_id
    else:
        view["api_key_id"] = b.api_key_id
    return view


def budget_status(tenant: Tenant) -> dict[str, Any]:
    """Every scope's limit, spent, reserved, remaining, period start and next reset."""
    rows = list(Budget.objects.filter(tenant=tenant).order_by("scope", "id"))
    tenant_row = next((b for b in rows if b.scope == Scope.TENANT), None)
    return {
        "tenant": _scope_view(tenant_row) if tenant_row else None,
        "members": [_scope_view(b) for b in rows if b.scope == Scope.MEMBER],
        "keys": [_scope_view(b) for b in rows if b.scope == Scope.KEY],
        "next_reset_at": tenant_row.next_reset_at if tenant_row else None,
    }


def _scoped_row(
    tenant_id: int, scope: str, owner: dict[str, int], ledger_filter: dict[str, int]
) -> Budget:
    """The member or key row, created with counters rebuilt from the ledger and the held
    reservations (the tenant lock is held, so nothing moves meanwhile)."""
    tenant_row = lock_tenant_budget(tenant_id)
    row = Budget.objects.select_for_update().filter(scope=scope, **owner).first()
    if row is not None:
        return row
    used = (
        LedgerEntry.objects.filter(
            tenant_id=tenant_id,
            kind__in=LedgerEntry.USAGE_KINDS,
            period=tenant_row.period_start,
            **ledger_filter,
        ).aggregate(s=Sum("amount"))["s"]
        or ZERO
    )
    held = (
        Reservation.objects.filter(state=Reservation.State.HELD, **ledger_filter).aggregate(
            s=Sum("amount")
        )["s"]
        or ZERO
    )
    return Budget.objects.create(
        tenant_id=tenant_id,
        scope=scope,
        limit=None,
        spent=-used,
        reserved=held,
        period_start=tenant_row.period_start,
        next_reset_at=tenant_row.next_reset_at,
        **owner,
    )


def _check_limit(amount: Decimal | None) -> None:
    if amount is not None and amount < 0:
        raise BillingError("A limit cannot be negative.")


@transaction.atomic
def set_member_limit(membership: Membership, amount: Decimal | None) -> Budget:
    """A member's monthly limit; None removes it (the row keeps counting)."""
    _check_limit(amount)
    row = _scoped_row(
        membership.tenant_id,
        Scope.MEMBER,
        {"member_id": membership.pk},
        {"member_id": membership.pk},
    )
    row.limit = amount
    row.save(update_fields=["limit", "updated_at"])
    return row


@transaction.atomic
def set_key_limit(api_key: ApiKey, amount: Decimal | None) -> Budget:
    """A key's monthly limit; None removes it (the row keeps counting)."""
    _check_limit(amount)
    row = _scoped_row(
        api_key.tenant_id, Scope.KEY, {"api_key_id": api_key.pk}, {"api_key_id": api_key.pk}
    )
    row.limit = amount
    row.save(update_fields=["limit", "updated_at"])
    return row


def _credit_entry(
    tenant: Tenant, amount: Decimal, *, kind: str, by: User | None, note: str, reference: str = ""
) -> LedgerEntry:
    if kind not in LedgerEntry.CREDIT_KINDS:
        raise BillingError(f"'{kind}' does not move credit.")
    with transaction.atomic():
        budget = lock_tenant_budget(tenant.pk)
        if reference:
            prior = LedgerEntry.objects.filter(
                tenant_id=tenant.pk, kind=kind, request_id=reference
            ).first()
            if prior is not None:  # a repeated webhook or API call
                return prior
        Budget.objects.filter(pk=budget.pk).update(
            credit=F("credit") + amount, updated_at=timezone.now()
        )
        return LedgerEntry.objects.create(
            tenant_id=tenant.pk,
            kind=kind,
            amount=amount,
            request_id=reference,
            period=budget.period_start,
            created_at=timezone.now(),
            created_by=by,
            note=note,
        )


def change_grant(
    budget: Budget, amount: Decimal, *, kind: str, reference: str = "", note: str
) -> LedgerEntry:
    """Add `amount` (negative: take it back) to the period's granted budget of a tenant
    budget row the caller has locked (`lock_tenant_budget`), with its ledger entry."""
    if kind not in (LedgerEntry.Kind.PERIOD_GRANT, LedgerEntry.Kind.GRANT_WITHDRAWN):
        raise BillingError(f"'{kind}' does not change a grant.")
    now = timezone.now()
    Budget.objects.filter(pk=budget.pk).update(
        limit=Coalesce(F("limit"), ZERO) + amount, updated_at=now
    )
    return LedgerEntry.objects.create(
        tenant_id=budget.tenant_id,
        kind=kind,
        amount=amount,
        request_id=reference,
        period=budget.period_start,
        created_at=now,
        note=note[:500],
    )


def grant_credit(tenant: Tenant, amount: Decimal, *, by: User | None, note: str) -> LedgerEntry:
    """Staff gives prepaid credit (does not expire)."""
    if amount <= 0:
        raise BillingError("A grant must be positive.")
    return _credit_entry(tenant, amount, kind=LedgerEntry.Kind.CREDIT_GRANT, by=by, note=note)


def purchase_credit(
    tenant: Tenant, amount: Decimal, *, reference: str, note: str = ""
) -> LedgerEntry:
    """Credit bought (Stripe top-up); idempotent by `reference` (e.g. the payment id)."""
    if amount <= 0:
        raise BillingError("A purchase must be positive.")
    return _credit_entry(
        tenant,
        amount,
        kind=LedgerEntry.Kind.CREDIT_PURCHASE,
        by=None,
        note=note,
        reference=reference,
    )


def adjust(
    tenant: Tenant,
    amount: Decimal,
    *,
    by: User | None,
    note: str,
    kind: str = LedgerEntry.Kind.ADJUSTMENT,
) -> LedgerEntry:
    """A signed manual correction of the credit balance (kind adjustment or refund)."""
    if kind not in (LedgerEntry.Kind.ADJUSTMENT, LedgerEntry.Kind.REFUND):
        raise BillingError("adjust() records adjustments and refunds only.")
    if not note:
        raise BillingError("Say why: a note is required.")
    return _credit_entry(tenant, amount, kind=kind, by=by, note=note)


# --- Monthly reset -----------------------------------------------------------------------


@dataclass(frozen=True)
class ResetResult:
    tenant_id: int
    closed: BudgetPeriod
    new_period_start: datetime
    next_reset_at: datetime


def _close_and_restart(
    budget: Budget, *, now: datetime, start: datetime, next_reset: datetime, by: User | None
) -> ResetResult:
    from apps.tenants.models import Tenant

    tenant = Tenant.objects.select_related("product").get(pk=budget.tenant_id)
    credit_used = max(ZERO, budget.spent - (budget.limit or ZERO))
    scopes = {
        f"{b.scope}:{b.member_id or b.api_key_id}": {"limit": str(b.limit), "spent": str(b.spent)}
        for b in Budget.objects.filter(tenant_id=tenant.pk).exclude(scope=Scope.TENANT)
    }
    closed = BudgetPeriod.objects.create(
        tenant=tenant,
        start=budget.period_start,
        end=start,
        granted=budget.limit or ZERO,
        spent=budget.spent,
        credit_at_close=budget.credit - credit_used,
        credit_used=credit_used,
        reserved_at_close=budget.reserved,
        scopes=scopes,
        closed_at=now,
        closed_by=by,
    )
    grant = _plan_grant(tenant)
    # One UPDATE restarts every scope; `reserved` stays so in-flight requests settle later.
    Budget.objects.filter(tenant_id=tenant.pk).update(
        spent=ZERO, period_start=start, next_reset_at=next_reset, updated_at=now
    )
    Budget.objects.filter(pk=budget.pk).update(limit=grant, credit=F("credit") - credit_used)
    LedgerEntry.objects.create(
        tenant=tenant,
        kind=LedgerEntry.Kind.PERIOD_GRANT,
        amount=grant,
        period=start,
        created_at=now,
        created_by=by,
        note="Period budget.",
    )
    logger.info(
        "budget.reset tenant=%s closed_start=%s spent=%s credit_used=%s next_reset_at=%s",
        tenant.pk,
        closed.start.isoformat(),
        closed.spent,
        credit_used,
        next_reset.isoformat(),
    )
    return ResetResult(tenant.pk, closed, start, next_reset)


def reset_if_due(tenant_id: int, *, now: datetime | None = None) -> ResetResult | None:
    """The scheduled reset of one tenant; a no-op unless its reset is due (checked under the
    lock, so a second or concurrent run does nothing)."""
    from apps.tenants.models import Tenant

    now = now or timezone.now()
    with transaction.atomic():
        budget = (
            Budget.objects.select_for_update()
            .filter(tenant_id=tenant_id, scope=Scope.TENANT)
            .first()
        )
        if budget is None or budget.next_reset_at > now:
            return None
        anchor = Tenant.objects.values_list("billing_anchor", flat=True).get(pk=tenant_id)
        # After a long outage one period closes and the current one starts; none is replayed.
        start, next_reset = period_containing(anchor, now)
        start = max(start, budget.period_start)
        return _close_and_restart(budget, now=now, start=start, next_reset=next_reset, by=None)


def start_period(
    budget: Budget, *, start: datetime, next_reset: datetime, now: datetime | None = None
) -> ResetResult:
    """Close the current period and start one at `start`, running to `next_reset` (a Stripe
    subscription's cycle: its paid invoice's period). The caller holds `budget`'s lock
    (`lock_tenant_budget`) in its transaction."""
    if start <= budget.period_start or next_reset <= start:
        raise BillingError("The new period must start after the current one and end later.")
    return _close_and_restart(
        budget, now=now or timezone.now(), start=start, next_reset=next_reset, by=None
    )


def reset_budget(
    tenant: Tenant, *, by: User | None = None, at: datetime | None = None
) -> ResetResult:
    """Staff: close the current period and start a new one now (or at `at`)."""
    now = timezone.now()
    start = at or now
    with transaction.atomic():
        budget = lock_tenant_budget(tenant.pk)
        if start <= budget.period_start:
            raise BillingError("The new period must start after the current one.")
        next_reset = next_reset_after(tenant.billing_anchor, start)
        return _close_and_restart(budget, now=now, start=start, next_reset=next_reset, by=by)


def due_tenant_ids(now: datetime | None = None) -> list[int]:
    now = now or timezone.now()
    return list(
        Budget.objects.filter(scope=Scope.TENANT, next_reset_at__lte=now)
        .order_by("next_reset_at")
        .values_list("tenant_id", flat=True)
    )


# --- Usage without a reservation, and abandoned reservations ---------------------------


def record_usage_charge(
    tenant_id: int,
    *,
    request_id: str,
    amount: Decimal,
    member_id: int | None = None,
    api_key_id: int | None = None,
) -> bool:
    """Charge usage that had no reservation (the ingest API of an external proxy).
    Idempotent by request id: returns False when it was charged already."""
    if amount < 0:
        raise BillingError("A charge cannot be negative.")
    with connection.cursor() as cur:
        cur.execute(
            "SELECT public.billing_charge(%s, %s, %s, %s, %s::numeric)",
            [tenant_id, member_id, api_key_id, request_id, amount],
        )
        status = cur.fetchone()[0]
    if status == "missing":
        raise BillingError(f"Tenant {tenant_id} has no budget.")
    if status != "charged":
        # The id is charged already and the caller did not know it (it checks its own
        # record first): another source holds it. Nothing is charged; never silently.
        logger.error(
            "budget.charge_conflict tenant=%s request_id=%s amount=%s",
            tenant_id,
            request_id,
            amount,
        )
    return status == "charged"


def prune_reservations(*, older_than: timedelta | None = None, batch: int = 10_000) -> int:
    """Delete finished reservations (settled or released) older than `older_than`.

    A reservation is working state, not history: once finished, the ledger entry and the
    usage record hold everything it knew. Held ones are never touched. In batches, so a
    large backlog never holds one long lock. Returns how many were deleted."""
    age = older_than or timedelta(days=settings.BILLING_RESERVATION_RETENTION_DAYS)
    cutoff = timezone.now() - age
    finished = (Reservation.State.SETTLED, Reservation.State.EXPIRED)
    deleted = 0
    while True:
        ids = list(
            Reservation.objects.filter(state__in=finished, created_at__lt=cutoff).values_list(
                "id", flat=True
            )[:batch]
        )
        if not ids:
            return deleted
        deleted += Reservation.objects.filter(id__in=ids, state__in=finished).delete()[0]


def expired_reservation_ids(limit: int = 1000) -> list[int]:
    return list(
        Reservation.objects.filter(state=Reservation.State.HELD, expires_at__lte=timezone.now())
        .order_by("expires_at")
        .values_list("id", flat=True)[:limit]
    )


def release_reservation(reservation_id: int) -> bool:
    """Expire one reservation whose request never settled: release its hold, charge the
    prompt's cost (the request may have reached an upstream, which billed the prompt) and
    leave an `incomplete` usage record with that cost. One transaction; a no-op if it was
    settled or released meanwhile."""
    from apps.keys.models import ApiKey
    from apps.tenants.models import Membership, Tenant
    from apps.usage.models import UsageRecord
    from apps.usage.records import UsageRow, write_usage_sync

    with transaction.atomic():
        with connection.cursor() as cur:
            cur.execute("SELECT * FROM public.billing_expire(%s)", [reservation_id])
            columns = [c.name for c in cur.description]
            row = cur.fetchone()
        if row is None:
            return False
        res = dict(zip(columns, row, strict=True))
        schema = Tenant.objects.filter(pk=res["tenant_id"]).values_list("schema_name", flat=True)
        schema_name = schema.first()
        prefix, user_id = "", None
        if res["api_key_id"]:
            prefix = (
                ApiKey.objects.filter(pk=res["api_key_id"]).values_list("prefix", flat=True).first()
                or ""
            )
        if res["member_id"]:
            user_id = (
                Membership.objects.filter(pk=res["member_id"])
                .values_list("user_id", flat=True)
                .first()
            )
        recorded = schema_name is not None and write_usage_sync(
            schema_name,
            UsageRow(
                request_id=res["request_id"],
                created_at=res["created_at"],
                endpoint=res["endpoint"],
                model=res["model"],
                status=UsageRecord.Status.INCOMPLETE,
                api_key_id=res["api_key_id"],
                api_key_prefix=prefix,
                member_id=res["member_id"],
                user_id=user_id,
                cost=res["actual_cost"],
                error_type="reservation_expired",
            ),
        )
    if schema_name is not None and not recorded:
        # Charged, but another record holds the id (only an ingest can have put it there):
        # the audit shows the difference; say so now.
        logger.error(
            "budget.expired_record_conflict tenant=%s request_id=%s charged=%s",
            res["tenant_id"],
            res["request_id"],
            res["actual_cost"],
        )
    logger.warning(
        "budget.reservation_expired tenant=%s request_id=%s amount=%s charged=%s",
        res["tenant_id"],
        res["request_id"],
        res["amount"],
        res["actual_cost"],
    )
    return True
