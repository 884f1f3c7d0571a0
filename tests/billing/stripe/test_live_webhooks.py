"""End to end over HTTP: the fake Stripe's Checkout page and pay_checkout deliver signed
events to a live server (uvicorn, in-process), where dj-stripe verifies and processes them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import stripe
from djstripe.models import WebhookEventTrigger

from tests.fakes.stripe_server import FakeStripe
from tests.support.live import LiveGateway
from tests.support.stripe import LIVE_WEBHOOK_UUID, live_webhooks


@pytest.fixture(scope="module")
def live_gateway(django_db_setup: Any, django_db_blocker: Any) -> Iterator[LiveGateway]:
    with django_db_blocker.unblock():
        gateway = LiveGateway().start()
        try:
            yield gateway
        finally:
            gateway.stop()


@pytest.fixture
def live_fake(
    stripe_server: FakeStripe, live_gateway: LiveGateway, settings: Any, django_db_blocker: Any
) -> Iterator[FakeStripe]:
    stripe_server.reset()
    with live_webhooks(stripe_server, live_gateway.url, settings, django_db_blocker):
        yield stripe_server


def _session(fake: FakeStripe) -> str:
    opts = {"api_key": fake.api_key, "stripe_version": fake.api_version}
    product = stripe.Product.create(name="Live plan", **opts)
    price = stripe.Price.create(
        product=product.id,
        currency="usd",
        unit_amount=900,
        recurring={"interval": "month"},
        **opts,
    )
    session = stripe.checkout.Session.create(
        mode="subscription",
        customer_email="live@example.com",
        line_items=[{"price": price.id, "quantity": 1}],
        success_url="http://localhost/app/billing/done/?session_id={CHECKOUT_SESSION_ID}",
        cancel_url="http://localhost/app/billing/",
        **opts,
    )
    return str(session.id)


def _triggers(django_db_blocker: Any) -> list[WebhookEventTrigger]:
    with django_db_blocker.unblock():
        return list(
            WebhookEventTrigger.objects.filter(
                webhook_endpoint__djstripe_uuid=LIVE_WEBHOOK_UUID
            ).order_by("id")
        )


def test_pay_checkout_delivers_events_a_live_server_accepts(
    live_fake: FakeStripe, django_db_blocker: Any
) -> None:
    statuses = live_fake.pay_checkout(_session(live_fake))

    assert statuses == [200] * len(statuses)
    assert live_fake.event_types()[0] == "customer.created"  # Checkout made the customer
    triggers = _triggers(django_db_blocker)
    assert [(t.valid, t.processed, t.exception) for t in triggers] == [(True, True, "")] * len(
        statuses
    )
    assert [t.json_body["id"] for t in triggers] == [e["id"] for e in live_fake.events]
    assert live_fake.unknown == []


def test_the_checkout_page_pays_and_returns_to_success_url(
    live_fake: FakeStripe, django_db_blocker: Any
) -> None:
    session_id = _session(live_fake)
    page = httpx.get(f"{live_fake.url}/checkout/{session_id}")
    assert page.status_code == 200 and 'id="pay"' in page.text and "$9.00" in page.text

    paid = httpx.post(
        f"{live_fake.url}/checkout/{session_id}/pay", follow_redirects=False, timeout=120
    )

    assert paid.status_code == 303
    location = urlsplit(paid.headers["location"])
    assert location.path == "/app/billing/done/"
    assert parse_qs(location.query) == {"session_id": [session_id]}
    assert live_fake.get(session_id)["status"] == "complete"
    assert [s for _, _, s in live_fake.deliveries] == [200] * len(live_fake.events)
    assert all(t.valid and t.processed for t in _triggers(django_db_blocker))
