"""apps.catalog.listing: which models are on sale and what each plan's customer pays."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from apps.catalog import listing, pricing
from apps.catalog.models import ModelPrice
from tests.website.conftest import Shop


def by_id(catalog: listing.PublicCatalog) -> dict[str, listing.PublicModel]:
    return {m.id: m for m in catalog.models}


def test_it_lists_active_priced_routes_with_an_upstream_only(shop: Shop) -> None:
    models = by_id(listing.public_models())
    assert "shop-gpt" in models and "shop-embed" in models
    for absent in ("shop-unpriced", "shop-inactive", "shop-expired", "shop-orphan"):
        assert absent not in models


def test_it_applies_each_plans_markup_exactly(shop: Shop) -> None:
    gpt = by_id(listing.public_models())["shop-gpt"]
    assert gpt.base == listing.CustomerPrice(Decimal("0.15"), Decimal("0.60"), Decimal("0.075"))
    assert gpt.plans["shop-free"] == gpt.base  # no markup
    # 25% on 0.15 / 0.60 / 0.075, to the cent fraction: no float anywhere.
    assert gpt.plans["shop-pro"] == listing.CustomerPrice(
        Decimal("0.1875"), Decimal("0.75"), Decimal("0.09375")
    )
    assert gpt.plans["shop-pro"].as_json() == {
        "input": "0.1875",
        "output": "0.75",
        "cached_input": "0.09375",
    }


def test_a_plan_that_does_not_allow_a_model_has_no_price_for_it(shop: Shop) -> None:
    catalog = listing.public_models()
    embed = by_id(catalog)["shop-embed"]
    assert list(embed.plans) == ["shop-pro"]
    assert embed.price_for("shop-free") is None
    assert catalog.plans_of(embed) == ["Pro"]
    assert catalog.models_of("shop-free") == ["shop-gpt"]


def test_inactive_and_private_plans_are_left_out(shop: Shop) -> None:
    catalog = listing.public_models()
    slugs = [p.slug for p in catalog.plans]
    assert "shop-free" in slugs and "shop-pro" in slugs
    assert "shop-retired" not in slugs and "shop-private" not in slugs
    assert "shop-retired" not in by_id(catalog)["shop-gpt"].plans
    assert slugs.index("shop-free") < slugs.index("shop-pro")  # sort order


def test_it_names_providers_once_each_and_labels_the_mock(shop: Shop) -> None:
    gpt = by_id(listing.public_models())["shop-gpt"]
    assert [(p.name, p.kind, p.label) for p in gpt.providers] == [
        (shop.openai.name, "openai", "OpenAI"),
        (shop.mock.name, "mock", "Mock (demo)"),
    ]
    shop.openai.is_active = False
    shop.openai.save()
    gpt = by_id(listing.public_models())["shop-gpt"]
    assert [p.label for p in gpt.providers] == ["Mock (demo)"]


def test_it_uses_the_newest_price_in_force(shop: Shop) -> None:
    ModelPrice.objects.create(
        route=shop.gpt,
        input_per_mtok=Decimal("0.20"),
        output_per_mtok=Decimal("0.80"),
        cached_input_per_mtok=Decimal("0.10"),
        cache_write_per_mtok=Decimal("0.20"),
    )
    gpt = by_id(listing.public_models())["shop-gpt"]
    assert gpt.plans["shop-pro"].input == Decimal("0.25")


def test_an_embedding_model_has_no_output_cap(shop: Shop) -> None:
    models = by_id(listing.public_models())
    assert models["shop-embed"].max_output_tokens is None
    assert models["shop-gpt"].max_output_tokens == 16_384
    assert models["shop-gpt"].context_window == 128_000


def test_a_query_keeps_matching_models_and_the_total(shop: Shop) -> None:
    catalog = listing.public_models(query="EMBED")
    assert [m.id for m in catalog.models] == ["shop-embed"]
    assert catalog.total >= 2
    assert [m.id for m in listing.public_models(query="mock (demo)").models if "shop" in m.id] == [
        "shop-embed",
        "shop-gpt",
    ]
    assert listing.public_models(query="no-such-model-anywhere").models == []


def test_the_default_plan_is_the_signup_plan_else_the_first(shop: Shop) -> None:
    catalog = listing.public_models()
    assert catalog.plan(None).slug == "shop-free"
    assert catalog.plan("shop-pro").slug == "shop-pro"
    assert catalog.plan("shop-private").slug == "shop-free"  # not on sale: the default
    shop.free.signup_default = False
    shop.free.save()
    catalog = listing.public_models()
    assert catalog.plan(None).slug == catalog.plans[0].slug


def test_the_price_per_million_is_what_a_million_tokens_cost(db: Any) -> None:
    price = pricing.Price(
        Decimal("0.3333"), Decimal("1.2345678"), Decimal("0.1"), Decimal("0"), None, None
    )  # type: ignore[arg-type]
    factor = Decimal("1.175")
    million = SimpleNamespace(
        prompt_tokens=1_000_000, completion_tokens=0, cached_tokens=0, cache_write_tokens=0
    )
    assert pricing.customer_price_per_mtok(price.input, factor) == pricing.cost_of(
        price, million, factor
    )
    assert pricing.customer_price_per_mtok(price.output, factor) == Decimal("1.45061717")


def test_prices_are_written_as_plain_decimals() -> None:
    assert listing.price_text(Decimal("2.00000000")) == "2.00"
    assert listing.price_text(Decimal("0.07500000")) == "0.075"
    assert listing.price_text(Decimal("20")) == "20.00"
    assert listing.price_text(Decimal("0E-8")) == "0.00"
    assert listing.price_text(Decimal("1.23456789")) == "1.23456789"


def test_the_provider_kinds_on_offer_put_the_demo_last(shop: Shop) -> None:
    labels = listing.public_models(query="shop-").provider_labels()
    assert labels == ["OpenAI", "Mock (demo)"]
