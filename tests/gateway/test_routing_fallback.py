"""Retries, Retry-After, fallback to the next target, and the attempt log."""

from __future__ import annotations

import time
from decimal import Decimal

import httpx
import orjson

from apps.catalog.models import ProviderKind
from tests.support import factories
from tests.support.live import World, auth, user_message


def post(base_url: str, world: World, model: str) -> httpx.Response:
    return httpx.post(
        base_url + "/chat/completions",
        json={"model": model, "messages": user_message()},
        headers=auth(world.secret),
        timeout=10,
    )


def attempt_log(record: dict) -> list[dict]:
    log = record["attempt_log"]
    return orjson.loads(log) if isinstance(log, str) else log


def test_it_retries_then_falls_back_after_503(base_url: str, world: World) -> None:
    world.fakes["openai"].script({"status": 503}, {"status": 503})
    r = post(base_url, world, world.models["fallback"])
    assert r.status_code == 200
    record = world.record_for(r.headers["x-request-id"])
    assert [a["status"] for a in attempt_log(record)] == [503, 503, 200]
    assert record["attempts"] == 3 and record["upstream_model"] == "claude-x"
    assert len(world.fakes["anthropic"].requests) == 1


def test_it_honours_a_short_retry_after(base_url: str, world: World) -> None:
    world.fakes["openai"].script({"status": 429, "retry_after": "0.3"})
    started = time.monotonic()
    r = post(base_url, world, world.models["fallback"])
    assert r.status_code == 200
    assert time.monotonic() - started >= 0.3
    record = world.record_for(r.headers["x-request-id"])
    assert [a["status"] for a in attempt_log(record)] == [429, 200]
    assert record["provider"].startswith("openai")  # same target, after waiting


def test_a_long_retry_after_moves_on_instead_of_waiting(base_url: str, world: World) -> None:
    world.fakes["openai"].script({"status": 429, "retry_after": "30"})
    started = time.monotonic()
    r = post(base_url, world, world.models["fallback"])
    assert r.status_code == 200 and time.monotonic() - started < 2
    record = world.record_for(r.headers["x-request-id"])
    assert [a["status"] for a in attempt_log(record)] == [429, 200]
    assert record["upstream_model"] == "claude-x"


def test_quota_exhaustion_falls_back_without_retrying(base_url: str, world: World) -> None:
    world.fakes["openai"].script({"status": 429, "error_code": "insufficient_quota"})
    r = post(base_url, world, world.models["backup"])
    assert r.status_code == 200
    record = world.record_for(r.headers["x-request-id"])
    assert record["attempts"] == 2 and record["upstream_model"] == "gpt-4o-mini"


def test_all_targets_failing_is_503_with_a_usage_record(base_url: str, world: World) -> None:
    world.fakes["openai"].set_default(status=503)
    r = post(base_url, world, world.models["backup"])
    assert r.status_code == 503
    assert r.json()["error"]["code"] == "upstream_server"
    record = world.record_for(r.headers["x-request-id"])
    assert record["status"] == "error" and record["http_status"] == 503
    assert record["attempts"] == 2 and record["cost"] == Decimal(0)


def test_a_bad_gateway_is_502(base_url: str, world: World) -> None:
    world.fakes["openai"].set_default(status=500)
    r = post(base_url, world, world.models["gpt"])
    assert r.status_code == 502


def test_a_timeout_is_504(base_url: str, world: World) -> None:
    slow = factories.provider(
        ProviderKind.OPENAI, world.fakes["openai"].base_url, timeout_seconds=Decimal("0.3")
    )
    route = factories.route(factories.unique("gw-slow"), targets=[(slow, "gpt-4o")], retries=0)
    world.product.allowed_models.add(route)
    world.created.append(slow)
    world.models["slow"] = route.public_name
    world.fakes["openai"].script(delay=1.0)
    r = post(base_url, world, route.public_name)
    assert r.status_code == 504
    record = world.record_for(r.headers["x-request-id"])
    assert record["error_type"] == "timeout"


def test_a_client_error_from_upstream_is_returned_as_is(base_url: str, world: World) -> None:
    world.fakes["openai"].script(
        {"status": 400, "error_code": "context_length_exceeded", "error_message": "too long"}
    )
    r = post(base_url, world, world.models["backup"])
    assert r.status_code == 400
    error = r.json()["error"]
    assert error["code"] == "context_length_exceeded" and "too long" in error["message"]
    assert "sk-upstream" not in r.text
    record = world.record_for(r.headers["x-request-id"])
    assert record["attempts"] == 1 and record["status"] == "error"
