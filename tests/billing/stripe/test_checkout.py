"""Checkout sessions for plans and top-ups, the customer portal, and what is refused."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from apps.billing import checkout, stripe_api
from apps.billing.models import BillingAccount
from apps.catalog.models import Product
from tests.fakes.stripe_server import FakeStripe
from tests.support import factories

D = Decimal
DONE = "http://localhost/app/billing/done/?session_id={CHECKOUT_SESSION_ID}"
BACK = "http://localhost/app/billing/"


def _on_sale(product: Product, *, overage: bool) -> Product:
    """Put `product` on sale in the fake Stripe (what stripe_sync.push does)."""
    made = stripe_api.create_product(
        name=product.name, description="", active=True, metadata={"x": "1"}
    )
    price = stripe_api.create_price(
        product=made.id, currency="usd", unit_amount=2000, recurring={"interval": "month"}
    )
    ids = {"stripe_product_id": made.id, "stripe_price_id": price.id}
    if overage:
        meter = stripe_api.create_meter(display_name="Overage", event_name="cloudfreedom_overage")
        metered = stripe_api.create_price(
            product=made.id,
            currency="usd",
            unit_amount_decimal=D("0.0001"),
            recurring={"interval": "month", "usage_type": "metered", "meter": meter.id},
        )
        ids["stripe_overage_price_id"] = metered.id
    Product.objects.filter(pk=product.pk).update(**ids)
    product.refresh_from_db()
    return product


@pytest.fixture
def plan(stripe_fake: FakeStripe) -> Product:
    product = factories.product(
        name="Pro", monthly_price=D("20.00"), is_public=True, overage_cap=D("50.00")
    )
    return _on_sale(product, overage=True)


@pytest.fixture
def tenant(alice: Any, product: Product) -> Any:
    return factories.tenant("Acme", owner=alice, product=product)


def _session_params(fake: FakeStripe) -> list[dict[str, Any]]:
    return [p for m, path, p in fake.calls if (m, path) == ("POST", "/v1/checkout/sessions")]


def test_it_starts_a_subscription_checkout_with_the_plan_and_its_metered_price(
    stripe_fake: FakeStripe, plan: Product, tenant: Any, alice: Any
) -> None:
    url = checkout.start_subscription(tenant, plan, user=alice, success_url=DONE, cancel_url=BACK)

    [params] = _session_params(stripe_fake)
    assert params["mode"] == "subscription"
    assert params["line_items"] == [
        {"price": plan.stripe_price_id, "quantity": "1"},
        {"price": plan.stripe_overage_price_id},
    ]
    assert params["client_reference_id"] == str(tenant.pk)
    assert params["metadata"] == {
        "tenant_id": str(tenant.pk),
        "kind": "subscription",
        "product_id": str(plan.pk),
    }
    assert params["subscription_data"]["metadata"]["tenant_id"] == str(tenant.pk)
    assert (params["success_url"], params["cancel_url"]) == (DONE, BACK)
    account = BillingAccount.objects.get(tenant=tenant)
    assert params["customer"] == account.stripe_customer_id
    customer = stripe_fake.get(account.stripe_customer_id)
    assert customer["metadata"]["tenant_id"] == str(tenant.pk)
    assert customer["email"] == "alice@example.com"
    [session] = stripe_fake.find("checkout.session")
    assert url == session["url"] and url.startswith(f"{stripe_fake.url}/checkout/cs_test_")


def test_it_leaves_out_the_metered_price_when_the_plan_has_no_overage(
    stripe_fake: FakeStripe, plan: Product, tenant: Any, alice: Any
) -> None:
    Product.objects.filter(pk=plan.pk).update(overage_cap=D("0"))
    plan.refresh_from_db()
    checkout.start_subscription(tenant, plan, user=alice, success_url=DONE, cancel_url=BACK)
    [params] = _session_params(stripe_fake)
    assert params["line_items"] == [{"price": plan.stripe_price_id, "quantity": "1"}]


def test_it_creates_one_customer_per_tenant(
    stripe_fake: FakeStripe, plan: Product, tenant: Any, alice: Any, bob: Any
) -> None:
    checkout.start_subscription(tenant, plan, user=alice, success_url=DONE, cancel_url=BACK)
    checkout.start_subscription(tenant, plan, user=bob, success_url=DONE, cancel_url=BACK)
    checkout.start_topup(tenant, D("10"), user=bob, success_url=DONE, cancel_url=BACK)
    assert len(stripe_fake.find("customer")) == 1
    customer_id = BillingAccount.objects.get(tenant=tenant).stripe_customer_id
    assert {p["customer"] for p in _session_params(stripe_fake)} == {customer_id}

    other = factories.tenant("Other", owner=bob, product=plan)
    checkout.start_topup(other, D("10"), user=bob, success_url=DONE, cancel_url=BACK)
    customers = stripe_fake.find("customer")
    assert len(customers) == 2
    assert customers[1]["metadata"]["tenant_id"] == str(other.pk)


def test_it_starts_a_topup_checkout_for_the_amount(
    stripe_fake: FakeStripe, tenant: Any, alice: Any
) -> None:
    url = checkout.start_topup(tenant, D("25.50"), user=alice, success_url=DONE, cancel_url=BACK)

    [params] = _session_params(stripe_fake)
    assert params["mode"] == "payment"
    assert params["line_items"] == [
        {
            "price_data": {
                "currency": "usd",
                "unit_amount": "2550",
                "product_data": {"name": "CloudFreedom credit"},
            },
            "quantity": "1",
        }
    ]
    expected = {"kind": "topup", "tenant_id": str(tenant.pk), "amount": "25.50"}
    assert params["metadata"] == expected
    assert params["payment_intent_data"]["metadata"] == expected
    assert params["client_reference_id"] == str(tenant.pk)
    [session] = stripe_fake.find("checkout.session")
    assert url == session["url"] and session["amount_total"] == 2550


def test_it_refuses_bad_topup_amounts(stripe_fake: FakeStripe, tenant: Any, alice: Any) -> None:
    for amount in ("4.99", "10000.01", "12.345", "abc", "-5", "NaN", "Infinity", "", "1e3"):
        with pytest.raises(checkout.CheckoutError):
            checkout.start_topup(
                tenant,
                amount,  # type: ignore[arg-type]  # what a form may hand over
                user=alice,
                success_url=DONE,
                cancel_url=BACK,
            )
    assert stripe_fake.calls == []


def test_it_accepts_the_topup_bounds(stripe_fake: FakeStripe, tenant: Any, alice: Any) -> None:
    for amount in (D("5"), D("10000.00")):
        checkout.start_topup(tenant, amount, user=alice, success_url=DONE, cancel_url=BACK)
    amounts = [p["metadata"]["amount"] for p in _session_params(stripe_fake)]
    assert amounts == ["5.00", "10000.00"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"is_active": False}, "not available"),
        ({"is_public": False}, "not available"),
        ({"monthly_price": D("0")}, "free"),
        ({"stripe_price_id": ""}, "not on sale yet"),
    ],
)
def test_it_refuses_a_plan_that_is_not_on_sale(
    stripe_fake: FakeStripe,
    plan: Product,
    tenant: Any,
    alice: Any,
    change: dict[str, Any],
    message: str,
) -> None:
    Product.objects.filter(pk=plan.pk).update(**change)
    plan.refresh_from_db()
    stripe_fake.calls.clear()
    with pytest.raises(checkout.CheckoutError, match=message):
        checkout.start_subscription(tenant, plan, user=alice, success_url=DONE, cancel_url=BACK)
    assert stripe_fake.calls == []


def test_it_refuses_a_second_subscription(
    stripe_fake: FakeStripe, plan: Product, tenant: Any, alice: Any
) -> None:
    BillingAccount.objects.create(
        tenant=tenant,
        stripe_customer_id="cus_existing",
        stripe_subscription_id="sub_existing",
        subscription_status="past_due",
    )
    stripe_fake.calls.clear()
    with pytest.raises(checkout.CheckoutError, match="Manage billing"):
        checkout.start_subscription(tenant, plan, user=alice, success_url=DONE, cancel_url=BACK)
    assert stripe_fake.calls == []


def test_it_opens_the_portal_only_for_a_customer(
    stripe_fake: FakeStripe, tenant: Any, alice: Any
) -> None:
    with pytest.raises(checkout.CheckoutError, match="no billing account"):
        checkout.billing_portal_url(tenant, return_url=BACK)
    checkout.start_topup(tenant, D("10"), user=alice, success_url=DONE, cancel_url=BACK)
    url = checkout.billing_portal_url(tenant, return_url=BACK)
    [portal] = stripe_fake.find("billing_portal.session")
    assert url == portal["url"] and url.startswith(f"{stripe_fake.url}/portal/bps_")
    assert portal["customer"] == BillingAccount.objects.get(tenant=tenant).stripe_customer_id
    assert portal["return_url"] == BACK


def test_it_says_payments_are_unavailable_without_a_key(
    stripe_fake: FakeStripe, settings: Any, plan: Product, tenant: Any, alice: Any
) -> None:
    settings.STRIPE_TEST_SECRET_KEY = ""
    assert not checkout.payments_enabled()
    with pytest.raises(checkout.PaymentsUnavailable):
        checkout.start_subscription(tenant, plan, user=alice, success_url=DONE, cancel_url=BACK)
    with pytest.raises(checkout.PaymentsUnavailable):
        checkout.start_topup(tenant, D("10"), user=alice, success_url=DONE, cancel_url=BACK)
    with pytest.raises(checkout.PaymentsUnavailable):
        checkout.billing_portal_url(tenant, return_url=BACK)


def test_a_stripe_failure_is_a_checkout_error_without_the_key(
    stripe_fake: FakeStripe, settings: Any, tenant: Any, alice: Any
) -> None:
    wrong = "sk_test_WrongKeyWrongKeyWrongKey1234"
    settings.STRIPE_TEST_SECRET_KEY = wrong
    with pytest.raises(checkout.CheckoutError) as caught:
        checkout.start_topup(tenant, D("10"), user=alice, success_url=DONE, cancel_url=BACK)
    assert "1234" not in str(caught.value) and "try again" in str(caught.value)
    with pytest.raises(stripe_api.StripeApiError) as raw:
        stripe_api.retrieve_customer("cus_x")
    assert raw.value.http_status == 401 and "1234" not in str(raw.value)
    assert raw.value.__cause__ is None and raw.value.__suppress_context__
    assert (
        not BillingAccount.objects.filter(tenant=tenant).exclude(stripe_customer_id=None).exists()
    )
