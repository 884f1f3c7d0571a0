"""audit_ledger holds the ledger to what Stripe was told: paid invoices, top-ups, overage."""

from __future__ import annotations

from decimal import Decimal
from io import StringIO

from django.core.management import call_command
from django.utils import timezone
from djstripe.models import Session

from apps.billing import overage, services
from apps.billing.ledger import audit_tenant
from apps.billing.models import BillingAccount, LedgerEntry, OverageReport
from apps.tenants.models import Tenant
from tests.billing.webhooks.stripe_flows import (
    held,
    of_type,
    spend,
    stripe_plan,
    subscribe,
    subscription_checkout,
    tenant_budget,
    topup_checkout,
)
from tests.fakes.stripe_server import FakeStripe
from tests.support import factories

D = Decimal


def _audit(tenant: Tenant) -> tuple[int, str]:
    out = StringIO()
    try:
        call_command("audit_ledger", tenant=[tenant.slug], stdout=out)
    except SystemExit as exc:
        return int(exc.code or 0), out.getvalue()
    return 0, out.getvalue()


def test_the_audit_agrees_after_a_whole_billing_life(stripe_fake: FakeStripe) -> None:
    tenant = factories.tenant(product=factories.product())
    sub_id = subscribe(stripe_fake, tenant, stripe_plan(stripe_fake, overage_cap="5.00"))
    stripe_fake.pay_checkout(topup_checkout(stripe_fake, tenant, 1000))
    spend(tenant, "22.00")
    assert overage.report_tenant(tenant.pk)
    for item in stripe_fake.objects[sub_id]["items"]["data"]:
        item["current_period_end"] = item["current_period_start"] + 1
    stripe_fake.renew(sub_id)
    assert overage.report_tenant(tenant.pk) == []  # the closed period was reported in full
    spend(tenant, "4.00")
    stripe_fake.cancel_subscription(sub_id)

    assert audit_tenant(tenant) == []
    code, out = _audit(tenant)
    assert code == 0 and out.startswith("OK: 1 tenant"), out


def test_the_audit_flags_a_paid_invoice_without_its_grant(stripe_fake: FakeStripe) -> None:
    tenant = factories.tenant(product=factories.product())
    with held(stripe_fake) as events:
        stripe_fake.pay_checkout(
            subscription_checkout(stripe_fake, tenant, stripe_plan(stripe_fake))
        )
    lost = of_type(events, "invoice.paid")[0]
    for event in events:
        if event is not lost:  # invoice.paid never arrives (dj-stripe knows it is paid)
            assert stripe_fake.deliver(event) == 200
    invoice_id = lost["data"]["object"]["id"]

    assert audit_tenant(tenant) == [f"paid invoice {invoice_id}: 0 period grants, not 1"]
    code, out = _audit(tenant)
    assert code == 1 and f"{tenant.slug}: paid invoice {invoice_id}" in out
    # Stripe retries the event: the grant comes, the audit agrees.
    assert stripe_fake.deliver(lost) == 200
    assert audit_tenant(tenant) == []


def test_the_audit_flags_what_stripe_was_never_told(stripe_fake: FakeStripe) -> None:
    tenant = factories.tenant(product=factories.product())
    subscribe(stripe_fake, tenant, stripe_plan(stripe_fake, overage_cap="5.00"))
    spend(tenant, "21.00")
    overage.report_tenant(tenant.pk)
    assert audit_tenant(tenant) == []
    budget = tenant_budget(tenant)

    # A grant for an invoice Stripe never had, credit from no top-up, overage over-reported.
    LedgerEntry.objects.create(
        tenant_id=tenant.pk,
        kind="period_grant",
        amount=D("0"),
        request_id="in_forged",
        period=budget.period_start,
        created_at=timezone.now(),
    )
    services.purchase_credit(tenant, D("50.00"), reference="pi_never_paid")
    OverageReport.objects.filter(tenant=tenant).update(reported_micro=3_000_000)

    problems = audit_tenant(tenant)
    assert "period grant for invoice in_forged, not a paid invoice in Stripe" in problems
    assert "credit purchase pi_never_paid: no paid top-up in Stripe" in problems
    assert any(p.startswith("overage ") and "reported 3000000" in p for p in problems)
    assert len(problems) == 3, problems
    assert BillingAccount.objects.get(tenant=tenant).is_subscribed


def test_the_audit_flags_a_topup_whose_amount_differs(stripe_fake: FakeStripe) -> None:
    tenant = factories.tenant(product=factories.product())
    session_id = topup_checkout(stripe_fake, tenant, 1000)
    stripe_fake.pay_checkout(session_id)
    assert audit_tenant(tenant) == []
    reference = stripe_fake.get(session_id)["payment_intent"]

    # Stripe's record (dj-stripe's copy) says $15 was charged; the ledger bought $10.
    copy = Session.objects.get(id=session_id)
    copy.stripe_data = dict(copy.stripe_data, amount_total=1500)
    copy.save()

    assert audit_tenant(tenant) == [f"top-up {reference} of 15: credit purchases ['10.00000000']"]
