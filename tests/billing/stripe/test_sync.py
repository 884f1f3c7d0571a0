"""Pushing catalog products to Stripe and pulling them back."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from apps.billing import stripe_api, stripe_sync
from apps.catalog.models import Product
from tests.fakes.stripe_server import FakeStripe
from tests.support import factories

D = Decimal


@pytest.fixture
def pro(stripe_fake: FakeStripe) -> Product:
    return factories.product(
        name="Pro",
        description="For teams",
        monthly_price=D("20.00"),
        overage_cap=D("50.00"),
        is_public=True,
    )


def _creates(fake: FakeStripe) -> list[str]:
    return [path for method, path, _ in fake.calls if method == "POST" and path.count("/") == 2]


def test_it_pushes_product_price_meter_and_metered_price_once(
    stripe_fake: FakeStripe, pro: Product, settings: Any
) -> None:
    result = stripe_sync.push(pro)

    pro.refresh_from_db()
    [product] = stripe_fake.find("product")
    assert product["id"] == pro.stripe_product_id
    assert (product["name"], product["description"], product["active"]) == (
        "Pro",
        "For teams",
        True,
    )
    assert product["metadata"] == {
        "cloudfreedom_product_id": str(pro.pk),
        "cloudfreedom_slug": pro.slug,
    }
    price = stripe_fake.get(pro.stripe_price_id)
    assert (price["unit_amount"], price["currency"], price["active"]) == (2000, "usd", True)
    assert price["recurring"]["interval"] == "month"
    assert price["recurring"]["usage_type"] == "licensed"
    assert product["default_price"] == price["id"]
    [meter] = stripe_fake.find("billing.meter")
    assert meter["event_name"] == settings.STRIPE_OVERAGE_METER_EVENT == "cloudfreedom_overage"
    assert meter["default_aggregation"] == {"formula": "sum"}
    assert meter["customer_mapping"] == {"event_payload_key": "stripe_customer_id", "type": "by_id"}
    metered = stripe_fake.get(pro.stripe_overage_price_id)
    assert metered["unit_amount_decimal"] == "0.0001" and metered["unit_amount"] is None
    assert metered["recurring"]["usage_type"] == "metered"
    assert metered["recurring"]["meter"] == meter["id"]
    assert metered["product"] == product["id"]
    assert "created product" in result.message and "created meter" in result.message

    before = _creates(stripe_fake)
    again = stripe_sync.push(pro)
    assert again.message == "Pro: already up to date"
    assert _creates(stripe_fake) == before
    assert len(stripe_fake.find("price")) == 2


def test_a_price_change_creates_a_new_price_and_archives_the_old(
    stripe_fake: FakeStripe, pro: Product
) -> None:
    stripe_sync.push(pro)
    pro.refresh_from_db()
    old = pro.stripe_price_id
    Product.objects.filter(pk=pro.pk).update(monthly_price=D("25.50"))
    pro.refresh_from_db()

    result = stripe_sync.push(pro)

    pro.refresh_from_db()
    assert pro.stripe_price_id != old
    assert stripe_fake.get(old)["active"] is False
    new = stripe_fake.get(pro.stripe_price_id)
    assert (new["unit_amount"], new["active"]) == (2550, True)
    assert stripe_fake.get(pro.stripe_product_id)["default_price"] == new["id"]
    assert f"archived old price {old}" in result.message
    assert len(stripe_fake.find("billing.meter")) == 1


def test_plans_share_one_meter_and_losing_overage_archives_its_price(
    stripe_fake: FakeStripe, pro: Product
) -> None:
    team = factories.product(name="Team", monthly_price=D("99.00"), overage_cap=D("10"))
    stripe_sync.push(pro)
    stripe_sync.push(team)
    assert len(stripe_fake.find("billing.meter")) == 1
    pro.refresh_from_db()
    metered = pro.stripe_overage_price_id

    Product.objects.filter(pk=pro.pk).update(overage_cap=D("0"))
    pro.refresh_from_db()
    stripe_sync.push(pro)

    pro.refresh_from_db()
    assert pro.stripe_overage_price_id == ""
    assert stripe_fake.get(metered)["active"] is False


def test_a_free_plan_gets_a_product_and_no_price(stripe_fake: FakeStripe) -> None:
    free = factories.product(name="Free", monthly_price=D("0"), monthly_budget=D("1"))
    stripe_sync.push(free)
    free.refresh_from_db()
    assert free.stripe_product_id and free.stripe_price_id == ""
    assert stripe_fake.find("price") == []


def test_a_push_that_lost_its_ids_adopts_what_stripe_has(
    stripe_fake: FakeStripe, pro: Product
) -> None:
    stripe_sync.push(pro)
    pro.refresh_from_db()
    ids = (pro.stripe_product_id, pro.stripe_price_id, pro.stripe_overage_price_id)
    Product.objects.filter(pk=pro.pk).update(
        stripe_product_id="", stripe_price_id="", stripe_overage_price_id=""
    )
    pro.refresh_from_db()

    result = stripe_sync.push(pro)

    pro.refresh_from_db()
    assert (pro.stripe_product_id, pro.stripe_price_id, pro.stripe_overage_price_id) == ids
    assert "adopted product" in result.message
    assert len(stripe_fake.find("product")) == 1 and len(stripe_fake.find("price")) == 2


def test_pull_takes_stripes_changes_and_lists_products_not_ours(
    stripe_fake: FakeStripe, pro: Product
) -> None:
    stripe_sync.push(pro)
    pro.refresh_from_db()
    old_price = pro.stripe_price_id
    # Staff change the plan in Stripe's dashboard: name, description, a new price.
    stripe_api.update_product(pro.stripe_product_id, name="Pro 2", description="")
    new_price = stripe_api.create_price(
        product=pro.stripe_product_id,
        currency="usd",
        unit_amount=3000,
        recurring={"interval": "month"},
    )
    stripe_api.update_product(pro.stripe_product_id, default_price=new_price.id)
    stripe_api.update_price(old_price, active=False)
    stripe_api.create_product(name="Someone else's", description="", active=True, metadata={})
    products_before = Product.objects.count()

    report = stripe_sync.pull()

    pro.refresh_from_db()
    assert (pro.name, pro.description, pro.monthly_price) == ("Pro 2", "", D("30.00"))
    assert pro.stripe_price_id == new_price.id
    [line] = [line for line in report.updated if line.startswith("Pro 2:")]
    assert "name: Pro → Pro 2" in line and "monthly_price: 20.00 → 30.00" in line
    assert f"stripe_price_id: {old_price} → {new_price.id}" in line
    assert len(report.unknown) == 1 and "Someone else's" in report.unknown[0]
    assert Product.objects.count() == products_before

    again = stripe_sync.pull([pro])
    assert again.updated == ["Pro 2: no changes"]


def test_pull_reports_a_product_stripe_no_longer_has(stripe_fake: FakeStripe) -> None:
    gone = factories.product(name="Gone", stripe_product_id="prod_GoneGoneGone")
    report = stripe_sync.pull([gone])
    assert report.missing == ["Gone: prod_GoneGoneGone is not in Stripe"]
