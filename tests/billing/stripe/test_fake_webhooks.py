"""The fake Stripe's webhooks are what dj-stripe accepts: signed like Stripe, processed."""

from __future__ import annotations

import stripe
from djstripe.models import WebhookEventTrigger

from tests.fakes.stripe_server import FakeStripe


def _subscription_session(fake: FakeStripe) -> str:
    opts = {"api_key": fake.api_key, "stripe_version": fake.api_version}
    product = stripe.Product.create(name="Pro", **opts)
    price = stripe.Price.create(
        product=product.id,
        currency="usd",
        unit_amount=2000,
        recurring={"interval": "month"},
        **opts,
    )
    customer = stripe.Customer.create(email="alice@example.com", **opts)
    session = stripe.checkout.Session.create(
        mode="subscription",
        customer=customer.id,
        line_items=[{"price": price.id, "quantity": 1}],
        success_url="http://localhost/app/billing/done/?session_id={CHECKOUT_SESSION_ID}",
        subscription_data={"metadata": {"tenant_id": "1"}},
        **opts,
    )
    return str(session.id)


def test_it_delivers_checkout_events_that_dj_stripe_accepts(stripe_fake: FakeStripe) -> None:
    statuses = stripe_fake.pay_checkout(_subscription_session(stripe_fake))
    triggers = list(WebhookEventTrigger.objects.order_by("id"))
    assert [(t.valid, t.processed, t.exception) for t in triggers] == [(True, True, "")] * len(
        statuses
    ), [t.traceback for t in triggers if t.traceback][:1]
    assert statuses == [200] * len(statuses)
    assert stripe_fake.unknown == []
