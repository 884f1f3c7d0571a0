"""A key made in the portal: its secret is in the POST's answer only (no-store), with
ready-to-paste snippets for a model the plan allows; afterwards only its prefix shows."""

from __future__ import annotations

import re
from collections.abc import Callable
from html import unescape
from typing import Any

from django.test import Client

from apps.keys.models import ApiKey
from apps.keys.services import find_key
from apps.tenants.models import Membership
from tests.support import factories

SECRET = re.compile(r'id="new-key-secret"[^>]*value="(cfk_[^"]+)"')


def _allow_a_model(tenant: Any) -> str:
    route = factories.route(
        factories.unique("portal-model"), targets=[(factories.provider(), "mock")]
    )
    factories.route(factories.unique("zz-unpriced"), price=None)
    tenant.product.allowed_models.add(route)
    return route.public_name


def test_it_shows_the_secret_once(browse: Callable[..., Client], tenant_a: Any, bob: Any) -> None:
    model = _allow_a_model(tenant_a)
    client = browse(bob)

    response = client.post("/app/keys/", {"name": "laptop"})

    html = unescape(response.content.decode())
    secret = SECRET.search(html).group(1)
    key = find_key(secret)
    assert response.status_code == 201
    assert "no-store" in response["Cache-Control"]
    assert key is not None and key.tenant == tenant_a and key.name == "laptop"
    assert key.member == Membership.objects.get(tenant=tenant_a, user=bob)
    assert key.created_by == bob
    # Copy buttons for the key and each snippet; the snippets call this site with the key.
    assert html.count("data-copy=") == 3
    assert "curl http://localhost/v1/chat/completions" in html
    assert f"Bearer {secret}" in html
    assert 'base_url="http://localhost/v1",' in html
    assert f'api_key="{secret}",' in html
    assert f'"model": "{model}"' in html
    assert secret not in str(dict(client.session))

    dashboard = client.get("/app/").content.decode()
    assert key.prefix in dashboard
    assert secret not in dashboard


def test_it_says_so_when_the_plan_allows_no_model(
    browse: Callable[..., Client], tenant_a: Any, alice: Any
) -> None:
    response = browse(alice).post("/app/keys/", {"name": "ci"})

    html = response.content.decode()
    assert response.status_code == 201
    assert "allows no priced chat model" in html
    assert "curl" not in html
    assert ApiKey.objects.filter(tenant=tenant_a, name="ci").count() == 1


def test_it_needs_a_name(browse: Callable[..., Client], tenant_a: Any, alice: Any) -> None:
    response = browse(alice).post("/app/keys/", {"name": "   "})

    assert response.status_code == 400
    assert 'class="errorlist' in response.content.decode()
    assert not ApiKey.objects.filter(tenant=tenant_a).exists()


def test_it_creates_the_key_in_the_hosts_workspace(
    browse: Callable[..., Client], tenant_a: Any, tenant_b: Any, alice: Any
) -> None:
    Membership.objects.create(user=alice, tenant=tenant_b, role=Membership.Role.MEMBER)
    _allow_a_model(tenant_b)
    host = tenant_b.domains.get(is_primary=True).domain

    response = browse(alice, host).post("/app/keys/", {"name": "on b"})

    assert response.status_code == 201
    assert ApiKey.objects.get(name="on b").tenant == tenant_b
    assert f"curl http://{host}/v1/chat/completions" in response.content.decode()
