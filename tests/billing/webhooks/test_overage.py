"""Overage reaches Stripe's meter as deltas, once per change, never twice for a retry."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings

from apps.billing import overage, services, stripe_api, tasks
from apps.billing.ledger import audit_tenant
from apps.billing.models import BillingAccount, BudgetPeriod, OverageReport
from apps.tenants.models import Tenant
from tests.billing.webhooks.stripe_flows import spend, stripe_plan, subscribe
from tests.fakes.stripe_server import FakeStripe
from tests.support import factories

D = Decimal
MICRO = 1_000_000


def _overage_tenant(fake: FakeStripe) -> tuple[Tenant, str]:
    tenant = factories.tenant(product=factories.product())
    # $20 a month, up to $5 more billed as overage: the paid grant is $25.
    subscribe(fake, tenant, stripe_plan(fake, budget="20.00", overage_cap="5.00"))
    return tenant, str(BillingAccount.objects.get(tenant=tenant).stripe_customer_id)


def _metered(fake: FakeStripe, customer: str) -> int:
    return fake.meter_total(customer, settings.STRIPE_OVERAGE_METER_EVENT)


def test_it_reports_the_delta_once_per_change(stripe_fake: FakeStripe) -> None:
    tenant, customer = _overage_tenant(stripe_fake)
    spend(tenant, "19.00")
    assert overage.report_tenant(tenant.pk) == []  # within the monthly budget: nothing

    spend(tenant, "3.00")  # $22: $2 over
    first = overage.report_tenant(tenant.pk)
    again = overage.report_tenant(tenant.pk)
    spend(tenant, "1.25")  # $23.25
    second = overage.report_tenant(tenant.pk)
    spend(tenant, "10.00")  # $33.25: the overage stops at the $5 cap, the rest is credit
    third = overage.report_tenant(tenant.pk)

    assert [r.value for r in first] == [2 * MICRO] and again == []
    assert [r.value for r in second] == [int(1.25 * MICRO)]
    assert [r.value for r in third] == [int(1.75 * MICRO)]
    assert _metered(stripe_fake, customer) == 5 * MICRO
    identifiers = [e["identifier"] for e in stripe_fake.meter_events]
    assert len(set(identifiers)) == 3
    report = OverageReport.objects.get(tenant=tenant)
    assert (report.reported_micro, report.pending_micro) == (5 * MICRO, 5 * MICRO)
    assert audit_tenant(tenant) == []


def test_a_report_lost_after_the_call_is_resent_under_the_same_identifier(
    stripe_fake: FakeStripe, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant, customer = _overage_tenant(stripe_fake)
    spend(tenant, "22.00")
    real = stripe_api.create_meter_event

    def sent_then_died(**kwargs: Any) -> bool:
        real(**kwargs)
        raise stripe_api.StripeApiError("create meter event: connection reset")

    monkeypatch.setattr(stripe_api, "create_meter_event", sent_then_died)
    assert tasks.report_overage()["failed"] == [tenant.pk]
    monkeypatch.setattr(stripe_api, "create_meter_event", real)

    spend(tenant, "1.00")  # more overage meanwhile: sent after the lost one, not merged
    resent = overage.report_tenant(tenant.pk)

    assert [(r.value, r.total) for r in resent] == [(2 * MICRO, 2 * MICRO), (MICRO, 3 * MICRO)]
    assert _metered(stripe_fake, customer) == 3 * MICRO  # Stripe kept the first copy only
    assert OverageReport.objects.get(tenant=tenant).reported_micro == 3 * MICRO


def test_a_closed_period_reports_its_final_total_once(stripe_fake: FakeStripe) -> None:
    tenant, customer = _overage_tenant(stripe_fake)
    spend(tenant, "21.00")
    overage.report_tenant(tenant.pk)
    spend(tenant, "0.50")  # spent after the last run, before the period closed
    services.reset_budget(tenant)
    closed = BudgetPeriod.objects.get(tenant=tenant, end__isnull=False, spent=D("21.50"))

    sent = overage.report_tenant(tenant.pk)
    later = overage.report_tenant(tenant.pk)

    assert [(r.period_start, r.value) for r in sent] == [(closed.start, MICRO // 2)]
    assert later == []
    assert stripe_fake.meter_events[-1]["timestamp"] < int(closed.end.timestamp())
    assert OverageReport.objects.get(tenant=tenant, period_start=closed.start).final
    assert _metered(stripe_fake, customer) == int(1.5 * MICRO)


def test_the_task_reports_only_subscribed_tenants_with_an_overage_cap(
    stripe_fake: FakeStripe,
) -> None:
    tenant, customer = _overage_tenant(stripe_fake)
    no_cap = factories.tenant(product=factories.product())
    subscribe(stripe_fake, no_cap, stripe_plan(stripe_fake, budget="20.00"))
    spend(tenant, "21.00")
    spend(no_cap, "19.00")

    assert tenant.pk in overage.reporting_tenant_ids()
    assert no_cap.pk not in overage.reporting_tenant_ids()
    assert tasks.report_overage()["failed"] == []
    assert _metered(stripe_fake, customer) == MICRO
