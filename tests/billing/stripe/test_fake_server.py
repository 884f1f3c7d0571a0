"""The fake Stripe itself: Stripe's wire format, auth, errors, signatures and pages."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import stripe

from tests.fakes.stripe_server import FakeStripe, decode_form


def test_it_decodes_stripes_form_notation() -> None:
    raw = (
        "mode=subscription&line_items[0][price]=price_1&line_items[0][quantity]=1"
        "&line_items[1][price]=price_2&metadata[tenant_id]=7&metadata[gone]="
        "&expand[0]=customer&subscription_data[metadata][tenant_id]=7"
    )
    assert decode_form(raw.replace("[", "%5B").replace("]", "%5D")) == {
        "mode": "subscription",
        "line_items": [{"price": "price_1", "quantity": "1"}, {"price": "price_2"}],
        "metadata": {"tenant_id": "7", "gone": ""},
        "expand": ["customer"],
        "subscription_data": {"metadata": {"tenant_id": "7"}},
    }


def test_it_checks_the_key_and_answers_unknown_paths_like_stripe(
    stripe_server: FakeStripe,
) -> None:
    fake = stripe_server
    fake.reset()
    wrong = httpx.get(f"{fake.url}/v1/customers", headers={"Authorization": "Bearer sk_test_x"})
    assert wrong.status_code == 401 and wrong.json()["error"]["type"] == "invalid_request_error"
    auth = {"Authorization": f"Bearer {fake.api_key}"}
    missing = httpx.get(f"{fake.url}/v1/customers/cus_nope", headers=auth)
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "resource_missing"
    unknown = httpx.get(f"{fake.url}/v1/radar/value_lists", headers=auth)
    assert unknown.status_code == 404 and fake.unknown == [("GET", "/v1/radar/value_lists")]


@pytest.fixture
def fake(stripe_server: FakeStripe, monkeypatch: pytest.MonkeyPatch) -> FakeStripe:
    """The fake alone (no database): the stripe library pointed at it for one test."""
    stripe_server.reset()
    monkeypatch.setattr(stripe, "api_base", stripe_server.url)
    return stripe_server


def test_objects_have_stripes_shape_lists_page_and_expand(fake: FakeStripe) -> None:
    opts = {"api_key": fake.api_key}
    made = [stripe.Customer.create(email=f"c{i}@example.com", **opts) for i in range(3)]
    assert all(c.id.startswith("cus_") and c.livemode is False for c in made)
    page = stripe.Customer.list(limit=2, **opts)
    assert len(page.data) == 2 and page.has_more
    assert [c.id for c in page.auto_paging_iter()] == [c.id for c in reversed(made)]
    session = stripe.checkout.Session.create(
        mode="payment",
        customer=made[0].id,
        line_items=[
            {
                "price_data": {
                    "currency": "usd",
                    "unit_amount": 500,
                    "product_data": {"name": "Credit"},
                },
                "quantity": 2,
            }
        ],
        success_url="http://localhost/done",
        **opts,
    )
    assert session.id.startswith("cs_test_") and session.amount_total == 1000
    expanded = stripe.checkout.Session.retrieve(
        session.id, expand=["customer", "line_items"], **opts
    )
    assert expanded.customer.email == "c0@example.com"
    assert expanded.line_items.data[0].amount_total == 1000


def test_its_signature_is_what_the_stripe_library_verifies(stripe_server: FakeStripe) -> None:
    fake = stripe_server
    event = fake.build_event("customer.created", {"id": "cus_1", "object": "customer"})
    body, headers = fake.signed(event)
    verified = stripe.Webhook.construct_event(
        body.decode(), headers["Stripe-Signature"], fake.webhook_secret
    )
    assert verified.id == event["id"] and json.loads(body)["type"] == "customer.created"
    bad_body, bad_headers = fake.signed(event, signature="bad")
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(
            bad_body.decode(), bad_headers["Stripe-Signature"], fake.webhook_secret
        )
    assert "Stripe-Signature" not in fake.signed(event, signature=None)[1]


def test_the_portal_page_cancels_at_period_end(fake: FakeStripe) -> None:
    delivered: list[dict[str, Any]] = []
    fake.set_webhook(sender=lambda body, headers: delivered.append(json.loads(body)) or 200)
    try:
        opts = {"api_key": fake.api_key}
        product = stripe.Product.create(name="P", **opts)
        price = stripe.Price.create(
            product=product.id,
            currency="usd",
            unit_amount=100,
            recurring={"interval": "month"},
            **opts,
        )
        session = stripe.checkout.Session.create(
            mode="subscription",
            customer_email="p@example.com",
            line_items=[{"price": price.id, "quantity": 1}],
            success_url="http://localhost/done",
            **opts,
        )
        fake.pay_checkout(session.id)
        [sub] = fake.find("subscription")
        portal = stripe.billing_portal.Session.create(
            customer=sub["customer"], return_url="http://localhost/app/billing/", **opts
        )
        page = httpx.get(portal.url)
        assert "Cancel subscription" in page.text and "http://localhost/app/billing/" in page.text
        httpx.post(f"{portal.url}/cancel", data={"subscription": sub["id"]})
    finally:
        fake.set_webhook(None)
    assert fake.get(sub["id"])["cancel_at_period_end"] is True
    assert delivered[-1]["type"] == "customer.subscription.updated"
    assert delivered[-1]["data"]["previous_attributes"] == {
        "cancel_at_period_end": False,
        "cancel_at": None,
    }
