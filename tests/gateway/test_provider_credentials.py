"""A provider credential that does not decrypt: an ERROR naming the provider, a 502, and
never an upstream call with an empty key."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import pytest
from django.test import override_settings

from apps.catalog import crypto
from apps.catalog.models import ModelPrice, ModelRoute, Provider, ProviderKind
from tests.support import factories
from tests.support.live import World, auth, reset_caches, user_message

LOST_SECRET = "sk-lost-upstream-secret"


@dataclass
class Unreadable:
    """An OpenAI provider (the fake) whose stored key was encrypted under a rotated key,
    and the routes a test points at it (removed afterwards)."""

    world: World
    provider: Provider
    routes: list[ModelRoute] = field(default_factory=list)

    def route(self, *targets: tuple[Provider, str]) -> str:
        route = factories.route(factories.unique("gw-cred"), targets=list(targets), retries=0)
        self.routes.append(route)
        self.world.product.allowed_models.add(route)
        reset_caches()
        return route.public_name


@pytest.fixture
def unreadable(world: World) -> Iterator[Unreadable]:
    with override_settings(CREDENTIALS_ENCRYPTION_KEY="a-key-rotated-away"):
        token = crypto.encrypt(LOST_SECRET)
    provider = factories.provider(ProviderKind.OPENAI, world.fakes["openai"].base_url)
    Provider.objects.filter(pk=provider.pk).update(api_key_encrypted=token)
    made = Unreadable(world, provider)
    yield made
    ModelPrice.objects.filter(route__in=made.routes).delete()
    for route in made.routes:
        route.delete()
    provider.delete()
    reset_caches()


def _chat(base_url: str, world: World, model: str) -> httpx.Response:
    return httpx.post(
        f"{base_url}/chat/completions",
        json={"model": model, "messages": user_message()},
        headers=auth(world.secret),
        timeout=30,
    )


def test_it_answers_502_logs_the_provider_and_never_calls_upstream(
    base_url: str, world: World, unreadable: Unreadable, caplog: pytest.LogCaptureFixture
) -> None:
    broken = unreadable.provider
    model = unreadable.route((broken, "gpt-4o"))
    with caplog.at_level(logging.ERROR, logger="cloudfreedom.catalog"):
        response = _chat(base_url, world, model)

    assert response.status_code == 502, response.text
    assert response.json()["error"]["code"] == "upstream_credential_error"
    assert world.fakes["openai"].requests == []
    assert not any(
        r["request_id"] == response.headers["x-request-id"] for r in world.usage_records()
    )
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert any(broken.name in message for message in errors), errors
    stored = Provider.objects.get(pk=broken.pk).api_key_encrypted
    for record in caplog.records:
        assert LOST_SECRET not in record.getMessage()
        assert stored not in record.getMessage()


def test_a_target_with_a_readable_credential_still_serves(
    base_url: str, world: World, unreadable: Unreadable
) -> None:
    good = world.created[0]  # the world's OpenAI provider, with a readable key
    model = unreadable.route((unreadable.provider, "gpt-4o"), (good, "gpt-4o"))

    response = _chat(base_url, world, model)

    assert response.status_code == 200, response.text
    calls = world.fakes["openai"].requests
    assert [c.headers.get("authorization") for c in calls] == ["Bearer sk-upstream-openai-secret"]
