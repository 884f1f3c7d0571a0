"""A catalog that cannot be loaded is a 503 in the gateway's error shape, never a 500; a
process that already has a snapshot keeps serving it through a database blip.

The blip is real: the gateway's pool is cut to one connection, which the test holds."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from apps.core import db
from apps.gateway.catalog_cache import CatalogCache
from apps.gateway.errors import GatewayError


@pytest.fixture
def one_connection_pool(settings: Any, django_db_setup: Any) -> None:
    settings.GATEWAY_DB_POOL_MAX = 1
    settings.GATEWAY_DB_POOL_TIMEOUT = 0.2
    settings.GATEWAY_CATALOG_TTL = 0  # every lookup reloads


def test_it_is_a_503_when_no_snapshot_was_ever_loaded(one_connection_pool: None) -> None:
    cache = CatalogCache()

    async def scenario() -> GatewayError:
        try:
            async with db.connection():  # the only connection: the reload times out
                with pytest.raises(GatewayError) as caught:
                    await cache.route("mock-gpt")
            return caught.value
        finally:
            await db.POOLS.close_all()

    error = asyncio.run(scenario())
    assert error.status == 503
    assert error.code == "catalog_unavailable"


def test_it_serves_the_last_snapshot_through_a_blip(one_connection_pool: None) -> None:
    cache = CatalogCache()

    async def scenario() -> tuple[Any, Any]:
        try:
            loaded = await cache.get()
            async with db.connection():
                during = await cache.get()
            return loaded, during
        finally:
            await db.POOLS.close_all()

    loaded, during = asyncio.run(scenario())
    assert during is loaded
