"""Portal page clients: a signed-in browser for alice (owner of A), bob (member of A) and
charlie (outsider, owner of B), on the public site or on a tenant's own host."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.test import Client

from apps.tenants.models import Tenant
from tests.support.live import LiveGateway, World, live_server
from tests.support.stripe import stripe_fake, stripe_server  # noqa: F401

PUBLIC_HOST = "localhost"


def host_of(tenant: Tenant) -> str:
    return tenant.domains.get(is_primary=True).domain


@pytest.fixture
def browse() -> Callable[..., Client]:
    """browse(user=None, host="localhost") → a test client signed in as `user`."""

    def make(user: Any | None = None, host: str = PUBLIC_HOST) -> Client:
        client = Client(HTTP_HOST=host)
        if user is not None:
            client.force_login(user)
        return client

    return make


@pytest.fixture(scope="module")
def live(django_db_setup: Any, django_db_blocker: Any) -> Iterator[tuple[LiveGateway, World]]:
    """The real ASGI app on 127.0.0.1 with committed catalog data (tests/support/live.py):
    a key made in the portal is used on /v1 exactly as a customer would."""
    with live_server(django_db_blocker) as pair:
        yield pair
