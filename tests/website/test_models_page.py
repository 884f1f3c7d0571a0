"""/models/: the model table, priced for a chosen plan, searchable, with empty states."""

from __future__ import annotations

import re
from typing import Any

from django.test import Client

from apps.catalog.models import Product
from tests.website.conftest import HOST, Shop


def row_of(html: str, model: str) -> str:
    """The table row of `model` (its <tr>…</tr>), or "" if absent."""
    for row in re.findall(r"<tr>.*?</tr>", html, flags=re.S):
        if f">{model}</code>" in row:
            return row
    return ""


def get(client: Client, query: str = "") -> str:
    response = client.get("/models/" + query, HTTP_HOST=HOST)
    assert response.status_code == 200
    return response.content.decode()


def test_it_prices_models_for_the_signup_plan_by_default(shop: Shop, client: Client) -> None:
    html = get(client)
    gpt = row_of(html, "shop-gpt")
    assert "$0.15<" in gpt and "$0.60<" in gpt and "$0.075<" in gpt
    assert "OpenAI" in gpt and "Mock (demo)" in gpt
    assert "128,000" in gpt and "16,384" in gpt
    assert 'value="shop-free" selected' in html
    assert "Not in Free" in row_of(html, "shop-embed")
    for absent in ("shop-unpriced", "shop-inactive", "shop-expired", "shop-orphan"):
        assert absent not in html
    assert "Retired plan" not in html and "Private plan" not in html


def test_it_prices_models_for_the_chosen_plan(shop: Shop, client: Client) -> None:
    html = get(client, "?plan=shop-pro")
    assert 'value="shop-pro" selected' in html
    gpt = row_of(html, "shop-gpt")
    assert "$0.1875<" in gpt and "$0.75<" in gpt and "$0.09375<" in gpt
    embed = row_of(html, "shop-embed")
    assert "$0.025<" in embed  # 0.02 + 25%
    assert "Not in" not in embed


def test_a_search_keeps_matching_rows_only(shop: Shop, client: Client) -> None:
    html = get(client, "?q=embed&plan=shop-pro")
    assert row_of(html, "shop-embed")
    assert not row_of(html, "shop-gpt")
    assert 'value="embed"' in html  # the box keeps the query
    assert 'data-filter="#model-table"' in html  # and filters live with site.js


def test_a_search_without_matches_says_so(shop: Shop, client: Client) -> None:
    html = get(client, "?q=zzz-nothing")
    assert "No model matches" in html
    assert "<table" not in html


def test_without_plans_it_shows_list_prices_labelled(shop: Shop, client: Client) -> None:
    Product.objects.update(is_public=False)
    html = get(client)
    assert "list prices, before any plan" in html
    assert "$0.15<" in row_of(html, "shop-gpt")
    assert "<select" not in html


def test_without_models_it_shows_an_empty_state(db: Any, client: Client) -> None:
    from apps.catalog.models import ModelRoute

    ModelRoute.objects.update(is_active=False)
    html = get(client)
    assert "No models are on offer yet." in html
