"""/docs/: the sections a first-time API user needs, true to the gateway's code."""

from __future__ import annotations

from django.test import Client

from apps.gateway import service
from tests.website.conftest import HOST, Shop


def test_it_has_every_section_with_a_table_of_contents(shop: Shop, client: Client) -> None:
    response = client.get("/docs/", HTTP_HOST=HOST)
    assert response.status_code == 200
    html = response.content.decode()
    for anchor in (
        "quick-start",
        "authentication",
        "routes",
        "errors",
        "budgets",
        "rate-limits",
        "openwebui",
        "sdks",
        "models-json",
        "reference",
    ):
        assert f'href="#{anchor}"' in html and f'id="{anchor}"' in html
    for route in ("/v1/chat/completions", "/v1/models", "/v1/embeddings", "/v1/messages"):
        assert route in html
    for link in ('href="/api/docs/"', 'href="/api/redoc/"', 'href="/models.json"'):
        assert link in html


def test_it_documents_the_headers_and_codes_the_gateway_sends(shop: Shop, client: Client) -> None:
    html = client.get("/docs/", HTTP_HOST=HOST).content.decode()
    for header in (
        service.REQUEST_ID,
        service.COST,
        service.COST_RESERVED,
        service.BUDGET_REMAINING,
        "x-ratelimit-remaining-requests",
        "x-ratelimit-reset-tokens",
        "Retry-After",
    ):
        assert f"<code>{header}</code>" in html
    for code in ("budget_exceeded", "model_not_allowed", "rate_limit_exceeded", "invalid_api_key"):
        assert f"<code>{code}</code>" in html
    assert "Authorization: Bearer" in html and "x-api-key" in html


def test_its_samples_use_this_host_and_a_real_model(shop: Shop, client: Client) -> None:
    html = client.get("/docs/", HTTP_HOST="127.0.0.1:9000").content.decode()
    assert "curl http://127.0.0.1:9000/v1/chat/completions" in html
    assert "OPENAI_API_BASE_URL=http://127.0.0.1:9000/v1" in html
    assert 'model="shop-gpt"' in html and '"model": "shop-embed"' in html
    assert html.count('class="btn small" data-copy=') >= 10
