"""A small shop for the public pages: two providers, priced and unpriced routes, and plans
that are on sale, retired or private."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from apps.catalog.models import ModelPrice, ModelRoute, Product, Provider, ProviderKind
from tests.support import factories

HOST = "localhost"


@dataclass
class Shop:
    openai: Provider
    mock: Provider
    gpt: ModelRoute  # openai then mock (fallback), in both public plans
    embed: ModelRoute  # mock only, embedding, Pro only
    unpriced: ModelRoute
    inactive: ModelRoute
    expired: ModelRoute  # its only price ended yesterday
    orphan: ModelRoute  # priced, but its only target is inactive
    free: Product  # signup default, no markup
    pro: Product  # 25% markup, overage
    retired: Product  # not active
    private: Product  # not public


@pytest.fixture
def shop(db: Any) -> Shop:
    openai = factories.provider(ProviderKind.OPENAI, "https://api.openai.example")
    mock = factories.provider(ProviderKind.MOCK)
    gpt = factories.route(
        "shop-gpt",
        targets=[(openai, "gpt-4o-mini"), (mock, "echo")],
        price=("0.15", "0.60", "0.075", "0.15"),
        context_window=128_000,
        max_output_tokens=16_384,
        description="Fast and cheap.",
    )
    embed = factories.route(
        "shop-embed",
        targets=[(mock, "embed")],
        price=("0.02", "0", "0.01", "0.02"),
        mode=ModelRoute.Mode.EMBEDDING,
        context_window=8_192,
    )
    unpriced = factories.route("shop-unpriced", targets=[(openai, "x")], price=None)
    inactive = factories.route("shop-inactive", targets=[(openai, "y")], is_active=False)
    expired = factories.route("shop-expired", targets=[(openai, "z")], price=None)
    ModelPrice.objects.create(
        route=expired,
        input_per_mtok=Decimal("1"),
        output_per_mtok=Decimal("1"),
        cached_input_per_mtok=Decimal("1"),
        cache_write_per_mtok=Decimal("1"),
        effective_from=timezone.now() - timedelta(days=30),
        effective_to=timezone.now() - timedelta(days=1),
    )
    orphan = factories.route("shop-orphan", targets=[(openai, "w")])
    orphan.targets.update(is_active=False)
    free = factories.product(
        name="Free",
        slug="shop-free",
        monthly_price=Decimal("0"),
        monthly_budget=Decimal("1.00"),
        signup_default=True,
        sort_order=0,
        rpm_limit=20,
        tpm_limit=20_000,
    )
    free.allowed_models.set([gpt])
    pro = factories.product(
        name="Pro",
        slug="shop-pro",
        monthly_price=Decimal("99.00"),
        monthly_budget=Decimal("75.00"),
        markup_percent=Decimal("25"),
        overage_cap=Decimal("50"),
        sort_order=1,
        rpm_limit=600,
        tpm_limit=1_000_000,
    )
    pro.allowed_models.set([gpt, embed, unpriced, inactive])
    retired = factories.product(name="Retired plan", slug="shop-retired", is_active=False)
    retired.allowed_models.set([gpt])
    private = factories.product(name="Private plan", slug="shop-private", is_public=False)
    private.allowed_models.set([gpt])
    return Shop(
        openai, mock, gpt, embed, unpriced, inactive, expired, orphan, free, pro, retired, private
    )
