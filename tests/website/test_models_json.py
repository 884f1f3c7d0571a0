"""/models.json: the model list as public, cacheable JSON."""

from __future__ import annotations

from decimal import Decimal

from django.test import Client

from tests.website.conftest import HOST, Shop


def test_it_serves_the_model_list_without_a_key(shop: Shop, client: Client) -> None:
    response = client.get("/models.json", HTTP_HOST=HOST)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert "public" in response["Cache-Control"] and "max-age=60" in response["Cache-Control"]
    body = response.json()
    assert body["object"] == "list"
    plans = [p for p in body["plans"] if p["slug"].startswith("shop-")]
    assert plans == [{"slug": "shop-free", "name": "Free"}, {"slug": "shop-pro", "name": "Pro"}]
    models = {m["id"]: m for m in body["data"]}
    assert not {"shop-unpriced", "shop-inactive", "shop-expired", "shop-orphan"} & set(models)

    gpt = models["shop-gpt"]
    assert gpt["mode"] == "chat"
    assert gpt["context_window"] == 128_000 and gpt["max_output_tokens"] == 16_384
    assert [(p["name"], p["kind"]) for p in gpt["providers"]] == [
        (shop.openai.name, "openai"),
        (shop.mock.name, "mock"),
    ]
    assert gpt["pricing"]["currency"] == "usd" and gpt["pricing"]["unit"] == "1M tokens"
    assert gpt["pricing"]["plans"] == {
        "shop-free": {"input": "0.15", "output": "0.60", "cached_input": "0.075"},
        "shop-pro": {"input": "0.1875", "output": "0.75", "cached_input": "0.09375"},
    }
    # Strings that are exact decimals, never floats.
    assert Decimal(gpt["pricing"]["plans"]["shop-pro"]["cached_input"]) == Decimal("0.09375")

    embed = models["shop-embed"]
    assert embed["mode"] == "embedding" and embed["max_output_tokens"] is None
    assert list(embed["pricing"]["plans"]) == ["shop-pro"]  # Free does not include it


def test_it_refuses_writes(shop: Shop, client: Client) -> None:
    assert client.post("/models.json", HTTP_HOST=HOST).status_code == 405
