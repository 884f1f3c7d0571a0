"""A paid top-up Checkout buys credit once, for what Stripe charged."""

from __future__ import annotations

from decimal import Decimal

from django.test import Client

from apps.billing.ledger import audit_tenant
from apps.billing.models import BillingAccount, LedgerEntry
from tests.billing.webhooks.stripe_flows import held, of_type, tenant_budget, topup_checkout
from tests.fakes.stripe_server import FakeStripe
from tests.support import factories
from tests.support.stripe import signed_post

D = Decimal


def test_a_paid_topup_buys_credit_once(stripe_fake: FakeStripe) -> None:
    tenant = factories.tenant(product=factories.product())
    # Metadata is ours but never sets money: only the amount Stripe charged counts.
    session_id = topup_checkout(stripe_fake, tenant, 2500, amount="999")
    with held(stripe_fake) as events:
        stripe_fake.pay_checkout(session_id)
    completed = of_type(events, "checkout.session.completed")[0]

    for event in events:
        assert stripe_fake.deliver(event) == 200
    assert signed_post(Client(), stripe_fake, completed).status_code == 200
    session = stripe_fake.get(session_id)
    assert stripe_fake.deliver(stripe_fake.build_event("checkout.session.completed", session))

    purchases = LedgerEntry.objects.filter(tenant_id=tenant.pk, kind="credit_purchase")
    assert [(p.amount, p.request_id) for p in purchases] == [
        (D("25.00"), session["payment_intent"])
    ]
    assert tenant_budget(tenant).credit == D("25.00")
    assert audit_tenant(tenant) == []


def test_an_unpaid_or_foreign_session_buys_nothing(stripe_fake: FakeStripe) -> None:
    tenant = factories.tenant(product=factories.product())
    unpaid = stripe_fake.get(topup_checkout(stripe_fake, tenant, 2500))
    stranger = factories.tenant(product=factories.product())
    foreign_id = topup_checkout(stripe_fake, stranger, 2500)
    stripe_fake.objects[foreign_id].update(client_reference_id=None, metadata={"kind": "topup"})
    with held(stripe_fake):
        stripe_fake.pay_checkout(foreign_id)

    assert stripe_fake.deliver(stripe_fake.build_event("checkout.session.completed", unpaid))
    foreign = stripe_fake.get(foreign_id)
    assert stripe_fake.deliver(stripe_fake.build_event("checkout.session.completed", foreign))

    assert not LedgerEntry.objects.filter(
        kind="credit_purchase", tenant_id__in=[tenant.pk, stranger.pk]
    ).exists()
    assert not BillingAccount.objects.filter(tenant__in=[tenant, stranger]).exists()
