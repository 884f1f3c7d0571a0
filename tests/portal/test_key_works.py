"""The whole first-key path against the live app: a key made in the portal answers on
/v1 with the model its snippet names, and the dashboard counts the request."""

from __future__ import annotations

import contextlib
import re
from typing import Any

import httpx
from django.test import Client

from apps.keys.models import ApiKey
from tests.portal.conftest import PUBLIC_HOST
from tests.support import factories
from tests.support.live import LiveGateway, World, auth, reset_caches, user_message

SECRET = re.compile(r'id="new-key-secret"[^>]*value="(cfk_[^"]+)"')


def test_it_counts_a_request_made_with_a_portal_key(
    live: tuple[LiveGateway, World], django_db_blocker: Any
) -> None:
    gateway, world = live
    reset_caches()
    with django_db_blocker.unblock():
        user = factories.user()
        tenant = world.new_tenant(owner=user)  # on the world's plan: priced models allowed
        client = Client(HTTP_HOST=PUBLIC_HOST)
        client.force_login(user)
        try:
            assert client.get("/app/").context["usage"].requests == 0
            created = client.post("/app/keys/", {"name": "first"})
            secret = SECRET.search(created.content.decode()).group(1)
            model = created.context["model"]
            assert model in world.models.values()

            response = httpx.post(
                f"{gateway.url}/v1/chat/completions",
                json={"model": model, "messages": user_message(), "max_tokens": 20},
                headers=auth(secret),
                timeout=30,
            )

            assert response.status_code == 200, response.text
            record = world.record_for(response.headers["x-request-id"], tenant)
            usage = client.get("/app/").context["usage"]
            assert (usage.requests, usage.errors) == (1, 0)
            assert usage.cost == record["cost"] > 0
            assert usage.prompt_tokens == record["prompt_tokens"] > 0
        finally:
            client.logout()
            with contextlib.suppress(Exception):
                ApiKey.objects.filter(tenant=tenant).delete()
            user.delete()
