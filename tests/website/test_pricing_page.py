"""/pricing/: plan cards from the active public products, the free plan marked."""

from __future__ import annotations

import re
from typing import Any

from django.test import Client

from apps.catalog.models import Product
from tests.support import factories
from tests.website.conftest import HOST, Shop


def card_of(html: str, name: str) -> str:
    for card in re.findall(r"<article.*?</article>", html, flags=re.S):
        if f">{name}</h2>" in card:
            return card
    return ""


def test_it_shows_each_plan_on_sale(shop: Shop, client: Client) -> None:
    html = client.get("/pricing/", HTTP_HOST=HOST).content.decode()
    free, pro = card_of(html, "Free"), card_of(html, "Pro")
    assert "Free — every new workspace starts here" in free
    assert "$0" in free and "$1</strong> of model usage" in free
    assert "Hard stop at the budget" in free
    assert "20 requests / minute" in free and "20,000 tokens / minute" in free
    assert "1 model:" in free and "<code>shop-gpt</code>" in free
    assert "$99" in pro and "$75</strong> of model usage" in pro
    assert "up to <strong>$50</strong> beyond the budget" in pro
    assert "billed at the same prices at the end of the month" in pro
    assert "600 requests / minute" in pro and "1,000,000 tokens / minute" in pro
    # Only the models that can be sold: not the unpriced or inactive ones it also allows.
    assert "2 models:" in pro and "shop-unpriced" not in pro and "shop-inactive" not in pro
    assert "starts here" not in pro
    assert not card_of(html, "Retired plan") and not card_of(html, "Private plan")
    assert "/accounts/signup/" in pro  # anonymous: sign up


def test_a_signed_in_visitor_chooses_in_billing(shop: Shop, client: Client) -> None:
    client.force_login(factories.user())
    html = client.get("/pricing/", HTTP_HOST=HOST).content.decode()
    assert 'href="/app/billing/">Choose Pro' in card_of(html, "Pro")


def test_a_plan_without_limits_or_models_says_so(db: Any, client: Client) -> None:
    factories.product(name="Bare", slug="bare", rpm_limit=None, tpm_limit=None)
    html = client.get("/pricing/", HTTP_HOST=HOST).content.decode()
    bare = card_of(html, "Bare")
    assert "No plan limit on requests / minute" in bare
    assert "No models in this plan yet" in bare


def test_without_plans_it_shows_an_empty_state(db: Any, client: Client) -> None:
    Product.objects.update(is_active=False)
    response = client.get("/pricing/", HTTP_HOST=HOST)
    assert response.status_code == 200
    assert "No plans are on sale yet." in response.content.decode()
    assert "<article" not in response.content.decode()
