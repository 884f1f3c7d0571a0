"""Pricing arithmetic and the one-record-per-request rule."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import httpx

from apps.gateway.accounting import cost_of
from apps.gateway.catalog_cache import Price
from apps.gateway.providers.base import Usage
from apps.gateway.providers.tokens import estimate_prompt_tokens, measure_prompt
from tests.support.live import World, auth, user_message

PRICE = Price(
    Decimal("3"),
    Decimal("15"),
    Decimal("0.30"),
    Decimal("3.75"),
    datetime(2020, 1, 1, tzinfo=UTC),
    None,
)


def test_cost_splits_cached_and_written_tokens_and_applies_markup() -> None:
    usage = Usage(
        prompt_tokens=1000, completion_tokens=200, cached_tokens=600, cache_write_tokens=100
    )
    # (300*3 + 600*0.30 + 100*3.75 + 200*15) / 1M = 0.004455; * 1.2
    assert cost_of(PRICE, usage, Decimal("1.2")) == Decimal("0.00534600")


def test_cost_is_quantized_to_8_places_and_zero_without_price() -> None:
    assert cost_of(PRICE, Usage(prompt_tokens=1), Decimal(1)) == Decimal("0.00000300")
    assert cost_of(None, Usage(prompt_tokens=10**6), Decimal(1)) == Decimal(0)


def test_the_prompt_bound_never_underestimates() -> None:
    request = {
        "messages": [
            {"role": "user", "content": "héllo wörld " * 50},
            {"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]},
        ]
    }
    assert measure_prompt(request)[1] >= len(("héllo wörld " * 50).encode()) + 1600
    assert measure_prompt(request)[1] > estimate_prompt_tokens(request)


def test_one_record_per_request(base_url: str, world: World) -> None:
    before = len(world.usage_records())
    ids = []
    for stream in (False, True):
        r = httpx.post(
            base_url + "/chat/completions",
            json={"model": world.models["mock"], "messages": user_message(), "stream": stream},
            headers=auth(world.secret),
        )
        assert r.status_code == 200
        ids.append(r.headers["x-request-id"])
    for request_id in ids:
        world.record_for(request_id)
    records = world.usage_records()
    assert len(records) == before + 2
    assert sorted(r["request_id"] for r in records[-2:]) == sorted(ids)
    assert all(r["provider"].startswith("mock") for r in records[-2:])


def test_a_client_that_leaves_a_plain_request_still_gets_exactly_one_record(
    base_url: str, world: World
) -> None:
    import time

    import httpx
    import pytest

    from apps.billing.models import Reservation

    world.fakes["openai"].script(delay=1.5)
    before = {r["request_id"] for r in world.usage_records()}
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(
            base_url + "/chat/completions",
            json={"model": world.models["gpt"], "messages": user_message()},
            headers=auth(world.secret),
            timeout=0.3,
        )
    deadline = time.monotonic() + 5
    while True:
        new = [r for r in world.usage_records() if r["request_id"] not in before]
        if new or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert len(new) == 1
    record = new[0]
    assert record["status"] == "client_closed" and record["streamed"] is False
    assert record["prompt_tokens"] > 0 and record["completion_tokens"] == 0
    assert record["cost"] > 0
    reservation = Reservation.objects.get(request_id=record["request_id"])
    assert reservation.state == "settled" and reservation.actual_cost == record["cost"]
    time.sleep(1.5)  # the upstream's late answer changes nothing
    assert len([r for r in world.usage_records() if r["request_id"] not in before]) == 1


def test_a_database_blip_while_recording_is_retried_and_records_once(
    base_url: str, world: World, monkeypatch: object
) -> None:
    import psycopg

    from apps.billing.models import Reservation
    from apps.gateway import accounting

    real_execute = psycopg.AsyncClientCursor.execute
    failures = {"left": 2}

    async def flaky(
        self: psycopg.AsyncClientCursor, query: object, params: object = None
    ) -> object:
        if failures["left"]:
            failures["left"] -= 1
            raise psycopg.OperationalError("server closed the connection unexpectedly")
        return await real_execute(self, query, params)

    monkeypatch.setattr(psycopg.AsyncClientCursor, "execute", flaky)  # type: ignore[attr-defined]
    monkeypatch.setattr(accounting, "RECORD_RETRY_DELAYS", (0.01, 0.01, 0.01))  # type: ignore[attr-defined]
    r = httpx.post(
        base_url + "/chat/completions",
        json={"model": world.models["gpt"], "messages": user_message()},
        headers=auth(world.secret),
    )
    assert r.status_code == 200
    assert failures["left"] == 0
    request_id = r.headers["x-request-id"]
    records = [x for x in world.usage_records() if x["request_id"] == request_id]
    assert len(records) == 1 and records[0]["status"] == "success"
    reservation = Reservation.objects.get(request_id=request_id)
    assert reservation.state == "settled" and reservation.actual_cost == records[0]["cost"]


def test_a_record_names_the_key_its_member_and_the_members_user(
    base_url: str, world: World
) -> None:
    from apps.tenants.models import Membership
    from tests.support import factories

    user = factories.user()
    try:
        member = Membership.objects.create(user=user, tenant=world.tenant, role="member")
        key, secret = world.new_key(member=member)
        r = httpx.post(
            base_url + "/chat/completions",
            json={"model": world.models["mock"], "messages": user_message()},
            headers=auth(secret),
        )
        assert r.status_code == 200
        record = world.record_for(r.headers["x-request-id"])
        assert (record["api_key_id"], record["api_key_prefix"]) == (key.pk, key.prefix)
        assert (record["member_id"], record["user_id"]) == (member.pk, user.pk)
    finally:
        Membership.objects.filter(user=user).delete()
        user.delete()
