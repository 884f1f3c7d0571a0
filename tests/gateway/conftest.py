"""Fixtures for the live gateway tests (see tests/support/live.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.test import override_settings

from tests.support.live import LiveGateway, World, live_server, reset_caches

# Small waits so retry and Retry-After tests stay fast; still exercised for real.
TEST_SETTINGS = {
    "GATEWAY_RETRY_MAX_WAIT": 0.5,
    "GATEWAY_RETRY_BACKOFF": 0.01,
}


@pytest.fixture(scope="session")
def live(django_db_setup: Any, django_db_blocker: Any) -> Iterator[tuple[LiveGateway, World]]:
    with override_settings(**TEST_SETTINGS), live_server(django_db_blocker) as pair:
        yield pair


@pytest.fixture
def gateway(live: tuple[LiveGateway, World], django_db_blocker: Any) -> Iterator[LiveGateway]:
    for fake in live[1].fakes.values():
        fake.reset()
    reset_caches()
    with django_db_blocker.unblock():
        yield live[0]


@pytest.fixture
def world(live: tuple[LiveGateway, World], gateway: LiveGateway) -> World:
    return live[1]


@pytest.fixture
def base_url(gateway: LiveGateway) -> str:
    return gateway.url + "/v1"
