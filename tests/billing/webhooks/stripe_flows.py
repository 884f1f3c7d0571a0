"""Stripe flows for the webhook tests: catalog plans with their Stripe prices, Checkout
sessions shaped as apps/billing/checkout.py makes them, and events held back so a test can
deliver them twice, concurrently or out of order."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import stripe
from django.conf import settings as django_settings

from apps.billing.models import Budget, LedgerEntry
from apps.catalog.models import Product
from apps.tenants.models import Tenant
from tests.billing.conftest import Made
from tests.fakes.stripe_server import FakeStripe
from tests.support import factories

D = Decimal


def _opts(fake: FakeStripe) -> dict[str, Any]:
    return {"api_key": fake.api_key, "stripe_version": fake.api_version}


def stripe_plan(
    fake: FakeStripe,
    *,
    budget: str = "20.00",
    overage_cap: str = "0",
    cents: int = 2000,
    made: Made | None = None,
) -> Product:
    """A catalog plan with its Stripe product and monthly price (and, with an overage cap,
    the metered overage price on the overage meter)."""
    opts = _opts(fake)
    sp = stripe.Product.create(name="Pro", **opts)
    price = stripe.Price.create(
        product=sp.id, currency="usd", unit_amount=cents, recurring={"interval": "month"}, **opts
    )
    overage_price = ""
    if D(overage_cap) > 0:
        meter = stripe.billing.Meter.create(
            display_name="Overage",
            event_name=django_settings.STRIPE_OVERAGE_METER_EVENT,
            default_aggregation={"formula": "sum"},
            customer_mapping={"event_payload_key": "stripe_customer_id", "type": "by_id"},
            value_settings={"event_payload_key": "value"},
            **opts,
        )
        overage_price = stripe.Price.create(
            product=sp.id,
            currency="usd",
            unit_amount_decimal="0.0001",
            recurring={"interval": "month", "usage_type": "metered", "meter": meter.id},
            **opts,
        ).id
    product = factories.product(
        name="Pro",
        monthly_price=D(cents) / 100,
        monthly_budget=D(budget),
        overage_cap=D(overage_cap),
        stripe_product_id=sp.id,
        stripe_price_id=price.id,
        stripe_overage_price_id=overage_price,
    )
    if made is not None:
        made.products.append(product)
    return product


def customer_for(fake: FakeStripe, tenant: Tenant) -> str:
    return str(
        stripe.Customer.create(
            email=f"{tenant.slug}@example.com",
            metadata={"tenant_id": str(tenant.pk)},
            **_opts(fake),
        ).id
    )


def subscription_checkout(
    fake: FakeStripe, tenant: Tenant, product: Product, *, customer: str | None = None
) -> str:
    """A subscription Checkout session shaped as apps/billing/checkout.py makes them."""
    items: list[dict[str, Any]] = [{"price": product.stripe_price_id, "quantity": 1}]
    if product.stripe_overage_price_id:
        items.append({"price": product.stripe_overage_price_id})
    session = stripe.checkout.Session.create(
        mode="subscription",
        customer=customer or customer_for(fake, tenant),
        line_items=items,
        client_reference_id=str(tenant.pk),
        metadata={"tenant_id": str(tenant.pk), "kind": "subscription", "product_id": product.pk},
        subscription_data={"metadata": {"tenant_id": str(tenant.pk)}},
        success_url="http://localhost/app/billing/done/?session_id={CHECKOUT_SESSION_ID}",
        **_opts(fake),
    )
    return str(session.id)


def topup_checkout(fake: FakeStripe, tenant: Tenant, cents: int, **metadata: str) -> str:
    session = stripe.checkout.Session.create(
        mode="payment",
        line_items=[
            {
                "price_data": {
                    "currency": "usd",
                    "unit_amount": cents,
                    "product_data": {"name": "Credit"},
                },
                "quantity": 1,
            }
        ],
        client_reference_id=str(tenant.pk),
        metadata={"tenant_id": str(tenant.pk), "kind": "topup", **metadata},
        success_url="http://localhost/app/billing/done/?session_id={CHECKOUT_SESSION_ID}",
        **_opts(fake),
    )
    return str(session.id)


def subscribe(fake: FakeStripe, tenant: Tenant, product: Product) -> str:
    """Pay a subscription Checkout; returns the subscription id."""
    session_id = subscription_checkout(fake, tenant, product)
    statuses = fake.pay_checkout(session_id)
    assert set(statuses) == {200}, statuses
    return str(fake.get(session_id)["subscription"])


def tenant_budget(tenant: Tenant) -> Budget:
    return Budget.objects.get(tenant=tenant, scope="tenant")


def paid_grants(tenant: Tenant) -> list[tuple[str, Decimal]]:
    return list(
        LedgerEntry.objects.filter(tenant_id=tenant.pk, kind="period_grant")
        .exclude(request_id="")
        .order_by("id")
        .values_list("request_id", "amount")
    )


@contextlib.contextmanager
def held(fake: FakeStripe) -> Iterator[list[dict[str, Any]]]:
    """Events the fake sends meanwhile are kept, not delivered (the test delivers them
    later: twice, concurrently, out of order)."""
    events: list[dict[str, Any]] = []
    previous = fake.sender, fake.webhook_url

    def keep(body: bytes, headers: dict[str, str]) -> int:
        events.append(json.loads(body))
        return 200

    fake.set_webhook(sender=keep)
    try:
        yield events
    finally:
        fake.set_webhook(previous[1], sender=previous[0])


def of_type(events: list[dict[str, Any]], event_type: str) -> list[dict[str, Any]]:
    return [e for e in events if e["type"] == event_type]


def spend(tenant: Tenant, amount: str, request_id: str | None = None) -> None:
    """Usage charged as an ingest would: the ledger entry and the usage record agree."""
    from apps.billing import services
    from apps.usage.records import write_usage_sync
    from tests.billing.conftest import usage

    request_id = request_id or factories.unique("req")
    assert services.record_usage_charge(tenant.pk, request_id=request_id, amount=D(amount))
    assert write_usage_sync(tenant.schema_name, usage(request_id, D(amount)))
