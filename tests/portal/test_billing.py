"""The billing page: plan, budget and ledger; paying through Stripe Checkout (the fake
Stripe API) when payments are configured, and saying so plainly when they are not."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from apps.billing import stripe_api
from apps.billing.models import BillingAccount
from apps.catalog.models import Product
from tests.fakes.stripe_server import FakeStripe
from tests.support import factories

DONE = "http://localhost/app/billing/done/?session_id={CHECKOUT_SESSION_ID}"
BACK = "http://localhost/app/billing/"


def _on_sale(name: str = "Pro") -> Product:
    """A public paid plan with a price in the fake Stripe (what the staff push does)."""
    product = factories.product(name=name, monthly_price=Decimal("20.00"))
    made = stripe_api.create_product(name=name, description="", active=True, metadata={})
    price = stripe_api.create_price(
        product=made.id, currency="usd", unit_amount=2000, recurring={"interval": "month"}
    )
    Product.objects.filter(pk=product.pk).update(
        stripe_product_id=made.id, stripe_price_id=price.id
    )
    product.refresh_from_db()
    return product


def _sessions(fake: FakeStripe) -> list[dict[str, Any]]:
    return [p for m, path, p in fake.calls if (m, path) == ("POST", "/v1/checkout/sessions")]


def test_it_says_when_payments_are_not_configured(
    browse: Callable[..., Client], tenant_a: Any, alice: Any
) -> None:
    page = browse(alice).get("/app/billing/")

    html = page.content.decode()
    assert page.status_code == 200
    assert "Online payments are not configured" in html
    assert "Subscribe" not in html
    assert 'action="/app/billing/topup/"' not in html
    assert tenant_a.product.name in html  # the plans are still listed
    assert "Period budget granted" in html  # the ledger: the first period's grant
    assert "not subscribed" in html


def test_it_explains_a_payment_that_cannot_start(
    browse: Callable[..., Client], tenant_a: Any, alice: Any
) -> None:
    response = browse(alice).post("/app/billing/topup/", {"amount": "10"}, follow=True)

    assert response.redirect_chain == [("/app/billing/", 302)]
    assert "Online payments are not configured on this site yet." in response.content.decode()


@pytest.mark.parametrize("amount", ["1", "abc", "10.123", "", "-5", "1e3", "100000"])
def test_it_refuses_a_bad_topup_amount_in_the_form(
    browse: Callable[..., Client], stripe_fake: FakeStripe, tenant_a: Any, alice: Any, amount: str
) -> None:
    response = browse(alice).post("/app/billing/topup/", {"amount": amount})

    assert response.status_code == 400
    assert response.context["topup_form"].errors["amount"]
    assert 'class="errorlist' in response.content.decode()
    assert stripe_fake.calls == []


def test_it_sends_a_topup_to_stripe_checkout(
    browse: Callable[..., Client], stripe_fake: FakeStripe, tenant_a: Any, alice: Any
) -> None:
    page = browse(alice).get("/app/billing/")
    assert 'action="/app/billing/topup/"' in page.content.decode()

    response = browse(alice).post("/app/billing/topup/", {"amount": "25.50"})

    assert response.status_code == 303
    assert response["Location"].startswith(stripe_fake.url + "/checkout/")
    [params] = _sessions(stripe_fake)
    assert (params["success_url"], params["cancel_url"]) == (DONE, BACK)
    assert params["metadata"]["amount"] == "25.50"


def test_it_subscribes_through_checkout_and_shows_the_paid_plan(
    browse: Callable[..., Client], stripe_fake: FakeStripe, tenant_a: Any, alice: Any
) -> None:
    plan = _on_sale()
    client = browse(alice)
    assert (
        f'action="/app/billing/subscribe/{plan.slug}/"'
        in client.get("/app/billing/").content.decode()
    )

    response = client.post(f"/app/billing/subscribe/{plan.slug}/")

    assert response.status_code == 303
    session_id = response["Location"].rsplit("/", 1)[1]
    [params] = _sessions(stripe_fake)
    assert params["line_items"][0]["price"] == plan.stripe_price_id
    assert params["success_url"] == DONE
    assert set(stripe_fake.pay_checkout(session_id)) == {200}

    done = client.get(f"/app/billing/done/?session_id={session_id}")
    html = done.content.decode()
    assert "Payment received" in html
    assert f"<strong>{plan.name}</strong>" in html
    assert BillingAccount.objects.get(tenant=tenant_a).is_subscribed

    billing = client.get("/app/billing/").content.decode()
    assert "Manage billing (card, plan, cancel)" in billing
    assert "/app/billing/subscribe/" not in billing
    manage = client.post("/app/billing/manage/")
    assert manage.status_code == 303
    assert manage["Location"].startswith(stripe_fake.url + "/portal/")


def test_it_shows_why_checkout_refused(
    browse: Callable[..., Client], stripe_fake: FakeStripe, tenant_a: Any, alice: Any
) -> None:
    not_on_sale = factories.product(name="Soon", monthly_price=Decimal("9.00"))

    response = browse(alice).post(f"/app/billing/subscribe/{not_on_sale.slug}/", follow=True)

    assert response.redirect_chain == [("/app/billing/", 302)]
    assert "This plan is not on sale yet." in response.content.decode()
    assert _sessions(stripe_fake) == []


def test_it_has_no_private_plans_for_sale(
    browse: Callable[..., Client], stripe_fake: FakeStripe, tenant_a: Any, alice: Any
) -> None:
    private = factories.product(name="Private", is_public=False)

    assert browse(alice).post(f"/app/billing/subscribe/{private.slug}/").status_code == 404
    assert "Private" not in browse(alice).get("/app/billing/").content.decode()


def test_it_explains_manage_billing_before_any_payment(
    browse: Callable[..., Client], stripe_fake: FakeStripe, tenant_a: Any, alice: Any
) -> None:
    response = browse(alice).post("/app/billing/manage/", follow=True)

    assert "no billing account yet" in response.content.decode()
