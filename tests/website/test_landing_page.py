"""/: what the product does, the models on offer, first-call samples for this very host."""

from __future__ import annotations

from typing import Any

from django.test import Client

from tests.website.conftest import HOST, Shop


def test_it_shows_the_models_on_offer_and_the_plans(shop: Shop, client: Client) -> None:
    response = client.get("/", HTTP_HOST=HOST)
    assert response.status_code == 200
    html = response.content.decode()
    assert "<code>shop-gpt</code>" in html and "<code>shop-embed</code>" in html
    assert "shop-unpriced" not in html
    assert "OpenAI" in html and "Mock (demo)" in html
    assert 'href="/models/"' in html and 'href="/pricing/"' in html
    assert "Free — every new workspace starts here" in html
    assert "Pro" in html and "Retired plan" not in html and "Private plan" not in html
    assert 'href="/accounts/signup/"' in html and 'href="/accounts/login/"' in html


def test_the_samples_use_the_requests_own_host(shop: Shop, client: Client) -> None:
    html = client.get("/", HTTP_HOST="localhost:8123").content.decode()
    assert "curl http://localhost:8123/v1/chat/completions" in html
    assert 'base_url="http://localhost:8123/v1"' in html  # openai SDK
    assert 'base_url="http://localhost:8123",' in html  # anthropic SDK: it adds /v1/messages
    # The signup plan's chat model, in every sample.
    assert html.count('"shop-gpt"') >= 3
    for tab in ("curl", "openai", "anthropic"):
        assert f'data-copy="#hero-{tab}"' in html and f'id="hero-{tab}"' in html


def test_https_requests_get_https_samples(shop: Shop, client: Client) -> None:
    html = client.get("/", HTTP_HOST=HOST, secure=True).content.decode()
    assert "curl https://localhost/v1/chat/completions" in html


def test_with_an_empty_catalog_it_says_so(db: Any, client: Client) -> None:
    from apps.catalog.models import ModelRoute, Product

    ModelRoute.objects.update(is_active=False)
    Product.objects.update(is_active=False)
    html = client.get("/", HTTP_HOST=HOST).content.decode()
    assert "No models are on offer yet." in html
    assert "No plans are on sale yet." in html
    assert '"MODEL_ID"' in html  # the samples still show where the model goes
