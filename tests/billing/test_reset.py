from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_context

from apps.billing import services, tasks
from apps.billing.ledger import audit_tenant
from apps.billing.models import Budget, BudgetPeriod, LedgerEntry
from apps.billing.periods import next_reset_after
from apps.tenants.models import Tenant
from apps.usage.models import UsageRecord
from tests.billing.conftest import Made
from tests.support import factories

D = Decimal


def at(y: int, m: int, d: int, h: int = 0, minute: int = 0) -> datetime:
    return datetime(y, m, d, h, minute, tzinfo=UTC)


def budgeted_tenant(budget: str, anchor: datetime, period: tuple[datetime, datetime]) -> Tenant:
    tenant = factories.tenant(product=factories.product(monthly_budget=D(budget)))
    Tenant.objects.filter(pk=tenant.pk).update(billing_anchor=anchor)
    tenant.refresh_from_db()
    place_in_period(tenant, *period)
    return tenant


def place_in_period(tenant: Tenant, start: datetime, end: datetime) -> None:
    """Move the tenant's first period (and its grant) to the dates a test needs."""
    Budget.objects.filter(tenant=tenant).update(period_start=start, next_reset_at=end)
    with connection.cursor() as cur:
        cur.execute(
            "UPDATE billing_ledgerentry SET period = %s, created_at = %s WHERE tenant_id = %s",
            [start, start, tenant.pk],
        )


def spend(tenant: Tenant, amount: str, member_id: int | None = None) -> None:
    """Usage as the ingest path records it: the record and the charge."""
    rid = factories.unique("r")
    with schema_context(tenant.schema_name):
        UsageRecord.objects.create(
            request_id=rid,
            created_at=timezone.now(),
            endpoint="chat",
            model="m",
            status="success",
            cost=D(amount),
            member_id=member_id,
        )
    services.record_usage_charge(tenant.pk, request_id=rid, amount=D(amount), member_id=member_id)


def row(tenant: Tenant) -> Budget:
    return Budget.objects.get(tenant=tenant, scope="tenant")


def test_a_new_tenant_has_a_budget_and_a_visible_reset(db: Any) -> None:
    tenant = factories.tenant(product=factories.product(monthly_budget=D("7.50")))
    status = services.budget_status(tenant)
    assert status["tenant"]["limit"] == D("7.50")
    assert status["tenant"]["remaining"] == D("7.50")
    assert status["next_reset_at"] > status["tenant"]["period_start"]
    assert status["next_reset_at"].day == 1  # the default anchor: the 1st, 00:00 UTC
    grant = LedgerEntry.objects.get(tenant_id=tenant.pk)
    assert (grant.kind, grant.amount) == ("period_grant", D("7.50"))


def test_the_reset_runs_once_keeps_history_and_advances(db: Any) -> None:
    tenant = budgeted_tenant("5.00", at(2026, 1, 1), (at(2026, 1, 1), at(2026, 2, 1)))
    services.grant_credit(tenant, D("3.00"), by=None, note="promo")
    spend(tenant, "6.25")  # the whole grant and 1.25 of credit
    Budget.objects.filter(pk=row(tenant).pk).update(reserved=D("0.40"))  # in flight

    assert services.reset_if_due(tenant.pk, now=at(2026, 1, 31, 23, 59)) is None  # not due
    result = services.reset_if_due(tenant.pk, now=at(2026, 2, 1, 0, 1))
    assert result is not None
    assert services.reset_if_due(tenant.pk, now=at(2026, 2, 1, 0, 2)) is None  # twice = once

    b = row(tenant)
    assert (b.period_start, b.next_reset_at) == (at(2026, 2, 1), at(2026, 3, 1))
    assert (b.limit, b.spent, b.credit) == (D("5.00"), 0, D("1.75"))
    assert b.reserved == D("0.40")  # in-flight reservations survive the reset
    period = BudgetPeriod.objects.get(tenant=tenant)
    assert (period.start, period.end) == (at(2026, 1, 1), at(2026, 2, 1))
    assert (period.granted, period.spent, period.credit_used) == (D("5"), D("6.25"), D("1.25"))
    grants = LedgerEntry.objects.filter(tenant_id=tenant.pk, kind="period_grant")
    assert sorted(g.period for g in grants) == [at(2026, 1, 1), at(2026, 2, 1)]
    Budget.objects.filter(pk=b.pk).update(reserved=0)
    assert audit_tenant(tenant) == []


def test_member_and_key_counters_restart_too(made: Made) -> None:
    tenant = made.tenant("5.00")
    member = made.member(tenant)
    services.set_member_limit(member, D("1.00"))
    spend(tenant, "0.30", member_id=member.pk)
    services.reset_budget(tenant)
    m = Budget.objects.get(tenant=tenant, scope="member")
    assert (m.limit, m.spent) == (D("1.00"), 0)
    assert m.period_start == row(tenant).period_start
    assert BudgetPeriod.objects.get(tenant=tenant).scopes == {
        f"member:{member.pk}": {"limit": "1.00000000", "spent": "0.30000000"}
    }
    assert audit_tenant(tenant) == []


def test_an_anchor_on_the_31st_clamps_to_the_end_of_february(db: Any) -> None:
    tenant = budgeted_tenant("5.00", at(2025, 10, 31), (at(2025, 12, 31), at(2026, 1, 31)))
    services.reset_if_due(tenant.pk, now=at(2026, 1, 31, 0, 0))
    assert row(tenant).next_reset_at == at(2026, 2, 28)
    services.reset_if_due(tenant.pk, now=at(2026, 2, 28, 0, 0))
    assert row(tenant).next_reset_at == at(2026, 3, 31)  # back to the 31st
    assert BudgetPeriod.objects.filter(tenant=tenant).count() == 2


def test_a_long_outage_closes_one_period_and_starts_the_current_one(db: Any) -> None:
    tenant = budgeted_tenant("5.00", at(2026, 1, 1), (at(2026, 1, 1), at(2026, 2, 1)))
    services.reset_if_due(tenant.pk, now=at(2026, 4, 10))
    b = row(tenant)
    assert (b.period_start, b.next_reset_at) == (at(2026, 4, 1), at(2026, 5, 1))
    assert BudgetPeriod.objects.filter(tenant=tenant).count() == 1


def test_staff_reset_starts_a_new_period_now(db: Any) -> None:
    staff = factories.user(is_staff=True)
    tenant = factories.tenant(product=factories.product(monthly_budget=D("5.00")))
    spend(tenant, "4.00")
    result = services.reset_budget(tenant, by=staff)
    b = row(tenant)
    assert b.spent == 0
    assert b.period_start == result.new_period_start
    assert result.closed.closed_by == staff
    assert b.next_reset_at == next_reset_after(tenant.billing_anchor, b.period_start)


def test_two_concurrent_resets_do_it_once(made: Made) -> None:
    tenant = made.tenant("5.00")
    b = row(tenant)
    due = b.next_reset_at + timedelta(minutes=1)
    barrier = threading.Barrier(2)
    results: list[object] = []

    def worker() -> None:
        try:
            barrier.wait()
            results.append(services.reset_if_due(tenant.pk, now=due))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sum(r is not None for r in results) == 1
    assert BudgetPeriod.objects.filter(tenant=tenant).count() == 1
    assert LedgerEntry.objects.filter(tenant_id=tenant.pk, kind="period_grant").count() == 2
    assert row(tenant).next_reset_at > due


def test_the_task_resets_every_due_tenant(db: Any, monkeypatch: Any) -> None:
    due = budgeted_tenant("5.00", at(2026, 1, 1), (at(2026, 1, 1), at(2026, 2, 1)))
    # A tenant that vanished between listing and resetting is skipped, not an error.
    monkeypatch.setattr(services, "due_tenant_ids", lambda: [due.pk, 10**12])
    assert tasks.reset_due_budgets.delay().get() == {"reset": [due.pk], "failed": []}
    assert tasks.reset_due_budgets() == {"reset": [], "failed": []}
