"""Every refusal: right status, right error shape, no upstream call, no usage record."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from django.conf import settings
from django.utils import timezone

from apps.billing.services import set_key_limit
from apps.tenants.models import Tenant
from tests.support.live import World, auth, user_message

Case = Callable[[World], tuple[dict[str, str], Any]]


def chat(world: World, model: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"model": model or world.models["gpt"], "messages": user_message(), **extra}


def _revoked(world: World) -> dict[str, str]:
    key, secret = world.new_key(name="to-revoke")
    key.revoked_at = timezone.now()
    key.save()
    return auth(secret)


def _expired(world: World) -> dict[str, str]:
    key, secret = world.new_key(name="expiring")
    key.expires_at = timezone.now() - timedelta(seconds=1)
    key.save()
    return auth(secret)


def _suspended(world: World) -> dict[str, str]:
    tenant = world.new_tenant()
    tenant.status = Tenant.Status.SUSPENDED
    tenant.save()
    return auth(world.new_key(tenant=tenant)[1])


def _over_budget(world: World) -> dict[str, str]:
    key, secret = world.new_key(name="tiny-budget")
    set_key_limit(key, Decimal("0.00000100"))
    return auth(secret)


def _limited_model(world: World) -> dict[str, str]:
    return auth(world.new_key(allowed_models=[world.models["claude"]])[1])


CASES: dict[
    str, tuple[Callable[[World], dict[str, str]], Callable[[World], Any], int, str | None]
] = {
    # name: (headers, body, status, param)
    "missing key": (lambda w: {}, chat, 401, None),
    "invalid key": (lambda w: auth("cfk_abcdefghij_not-a-real-secret"), chat, 401, None),
    "garbage key": (lambda w: auth("sk-garbage"), chat, 401, None),
    "revoked key": (_revoked, chat, 403, None),
    "expired key": (_expired, chat, 403, None),
    "suspended tenant": (_suspended, chat, 403, None),
    "malformed json": (lambda w: auth(w.secret), lambda w: b'{"model": ', 400, None),
    "missing model": (
        lambda w: auth(w.secret),
        lambda w: {"messages": user_message()},
        400,
        "model",
    ),
    "missing messages": (
        lambda w: auth(w.secret),
        lambda w: {"model": w.models["gpt"]},
        400,
        "messages",
    ),
    "bad role": (
        lambda w: auth(w.secret),
        lambda w: chat(
            w, messages=[{"role": "user", "content": "a"}, {"role": "robot", "content": "b"}]
        ),
        400,
        "messages[1].role",
    ),
    "max_tokens type": (
        lambda w: auth(w.secret),
        lambda w: chat(w, max_tokens="10"),
        400,
        "max_tokens",
    ),
    "stream type": (lambda w: auth(w.secret), lambda w: chat(w, stream="yes"), 400, "stream"),
    "unknown model": (
        lambda w: auth(w.secret),
        lambda w: chat(w, "no-such-model-xyz"),
        404,
        "model",
    ),
    "model not in plan": (
        lambda w: auth(w.secret),
        lambda w: chat(w, w.models["outsider"]),
        403,
        "model",
    ),
    "model not for key": (_limited_model, chat, 403, "model"),
    "model not priced": (
        lambda w: auth(w.secret),
        lambda w: chat(w, w.models["unpriced"]),
        403,
        "model",
    ),
    "budget exceeded": (_over_budget, chat, 402, None),
}


@pytest.mark.parametrize("name", list(CASES))
def test_a_bad_request_never_reaches_an_upstream(base_url: str, world: World, name: str) -> None:
    make_headers, make_body, status, param = CASES[name]
    headers = make_headers(world)
    body = make_body(world)
    before = len(world.usage_records())
    kwargs = {"content": body} if isinstance(body, bytes) else {"json": body}
    r = httpx.post(base_url + "/chat/completions", headers=headers, **kwargs)
    assert r.status_code == status, r.text
    error = r.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["param"] == param
    assert r.headers["x-request-id"].startswith("req_")
    assert r.headers["x-cloudfreedom-cost"] == "0"
    secret = headers.get("Authorization", "").removeprefix("Bearer ")
    if secret:
        assert secret not in r.text
    assert world.fakes["openai"].requests == []
    assert len(world.usage_records()) == before
    if name == "model not priced":
        assert error["code"] == "model_not_priced"
    if name == "budget exceeded":
        assert error["code"] == "budget_exceeded" and "key" in error["message"]


def test_a_body_over_the_limit_is_413(base_url: str, world: World) -> None:
    big = "x" * (settings.GATEWAY_MAX_BODY_BYTES + 10)
    r = httpx.post(
        base_url + "/chat/completions",
        json=chat(world, messages=user_message(big)),
        headers=auth(world.secret),
    )
    assert r.status_code == 413
    assert r.json()["error"]["code"] == "request_too_large"
    assert world.fakes["openai"].requests == []


def test_rate_limited_requests_get_429_with_retry_after(base_url: str, world: World) -> None:
    _, secret = world.new_key(name="rpm-1", rpm_limit=1)
    first = httpx.post(base_url + "/chat/completions", json=chat(world), headers=auth(secret))
    assert first.status_code == 200
    assert "x-ratelimit-limit-requests" in first.headers
    second = httpx.post(base_url + "/chat/completions", json=chat(world), headers=auth(secret))
    assert second.status_code == 429
    assert int(second.headers["retry-after"]) >= 1
    assert second.json()["error"]["code"] == "rate_limit_exceeded"
    assert len(world.fakes["openai"].requests) == 1


def test_messages_errors_use_anthropics_shape(base_url: str, world: World) -> None:
    r = httpx.post(
        base_url + "/messages",
        json={"model": world.models["claude"], "messages": user_message()},
        headers={"x-api-key": world.secret, "anthropic-version": "2023-06-01"},
    )
    assert r.status_code == 400
    body = r.json()
    assert body["type"] == "error" and body["error"]["type"] == "invalid_request_error"
    assert "max_tokens" in body["error"]["message"]
    r = httpx.post(base_url + "/messages", json={}, headers={"x-api-key": "cfk_nope"})
    assert r.status_code == 401 and r.json()["error"]["type"] == "authentication_error"
    assert world.fakes["anthropic"].requests == []


def test_unknown_routes_are_404_in_openai_shape(base_url: str, world: World) -> None:
    r = httpx.get(base_url + "/nothing-here", headers=auth(world.secret))
    assert r.status_code == 404 and r.json()["error"]["code"] == "unknown_url"
    assert "x-request-id" in r.headers
