"""apps/billing/stripe_api.py: the pinned version, idempotency keys, safe errors, meters."""

from __future__ import annotations

import logging
from typing import Any

import pytest
import stripe
from django.apps import apps

from apps.billing import stripe_api
from tests.fakes.stripe_server import FakeStripe


def test_every_call_sends_the_pinned_version_and_creates_an_idempotency_key(
    stripe_fake: FakeStripe, settings: Any
) -> None:
    customer = stripe_api.create_customer(
        email="a@example.com", metadata={"tenant_id": "7"}, idempotency_key="cf-test-1"
    )
    stripe_api.retrieve_customer(customer.id)
    stripe_api.create_product(name="P", description="", active=True, metadata={})
    versions = {h.get("stripe-version") for h in stripe_fake.call_headers}
    assert versions == {settings.STRIPE_API_VERSION}
    keys = [h.get("idempotency-key") for h in stripe_fake.call_headers]
    assert keys[0] == "cf-test-1" and keys[1] is None and keys[2]  # GETs carry none


def test_a_repeated_create_with_the_same_key_makes_one_customer(stripe_fake: FakeStripe) -> None:
    key = stripe_api.idempotency_key("customer", 7, "a@example.com")
    first = stripe_api.create_customer(email="a@example.com", metadata={}, idempotency_key=key)
    second = stripe_api.create_customer(email="a@example.com", metadata={}, idempotency_key=key)
    assert first.id == second.id and len(stripe_fake.find("customer")) == 1


def test_a_missing_object_is_not_found(stripe_fake: FakeStripe) -> None:
    with pytest.raises(stripe_api.NotFound) as caught:
        stripe_api.retrieve_subscription("sub_missing")
    assert caught.value.code == "resource_missing" and caught.value.http_status == 404
    assert str(caught.value).startswith("retrieve subscription: No such object")


def test_errors_and_logs_never_carry_the_key(
    stripe_fake: FakeStripe, settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    key = "sk_test_SecretSecretSecretSecret4321"
    settings.STRIPE_TEST_SECRET_KEY = key
    # INFO: the stripe library itself logs response bodies at DEBUG (never on in production).
    caplog.set_level(logging.INFO)
    with pytest.raises(stripe_api.StripeApiError) as caught:
        stripe_api.list_products()
    assert str(caught.value) == "list products: Stripe rejected the API key"
    assert caught.value.http_status == 401
    assert "4321" not in caplog.text and "Secret" not in caplog.text
    assert stripe_api.safe_message(f"bad {key} here") == "bad sk_… here"


def test_no_key_means_not_configured(stripe_fake: FakeStripe, settings: Any) -> None:
    settings.STRIPE_TEST_SECRET_KEY = ""
    assert not stripe_api.is_configured()
    with pytest.raises(stripe_api.NotConfigured):
        stripe_api.retrieve_invoice("in_1")
    assert stripe_fake.calls == []


def test_a_meter_event_is_counted_once_per_identifier(stripe_fake: FakeStripe) -> None:
    stripe_api.create_meter(display_name="Overage", event_name="cloudfreedom_overage")
    customer = stripe_api.create_customer(email="m@example.com", metadata={})
    sent = {
        "event_name": "cloudfreedom_overage",
        "stripe_customer_id": customer.id,
        "value": 2_500_000,
        "identifier": "tenant-7-period-1-2500000",
        "timestamp": 1_900_000_000,
    }
    assert stripe_api.create_meter_event(**sent) is True
    assert stripe_api.create_meter_event(**sent) is False  # the same request, replayed
    stripe_fake.forget_idempotency_keys()
    assert stripe_api.create_meter_event(**sent) is False  # Stripe knows the identifier
    assert stripe_fake.meter_total(customer.id, "cloudfreedom_overage") == 2_500_000
    [event] = stripe_fake.meter_events
    assert event["payload"] == {"stripe_customer_id": customer.id, "value": "2500000"}
    with pytest.raises(ValueError):
        stripe_api.create_meter_event(**{**sent, "value": -1, "identifier": "x"})


def test_the_billing_app_points_stripe_at_stripe_api_base(settings: Any) -> None:
    previous = stripe.api_base
    settings.STRIPE_API_BASE = "http://127.0.0.1:9/"
    try:
        apps.get_app_config("billing").ready()
        assert stripe.api_base == "http://127.0.0.1:9/"
    finally:
        stripe.api_base = previous
