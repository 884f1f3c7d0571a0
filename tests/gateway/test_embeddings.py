"""POST /v1/embeddings: floats upstream, base64 or floats to the client."""

from __future__ import annotations

import base64
import struct
import time
from decimal import Decimal

import httpx
import openai
import pytest

from tests.fakes.control import fake_vector
from tests.support.live import World, auth


def test_sdk_default_base64_decodes_to_the_upstream_vector(base_url: str, world: World) -> None:
    c = openai.OpenAI(base_url=base_url, api_key=world.secret, max_retries=0)
    result = c.embeddings.create(model=world.models["embed"], input=["hello", "world"])
    assert [d.embedding for d in result.data] == [fake_vector("hello", 8), fake_vector("world", 8)]
    assert world.fakes["openai"].requests[-1].json["encoding_format"] == "float"


def test_explicit_base64_and_float(base_url: str, world: World) -> None:
    for fmt in ("base64", "float"):
        r = httpx.post(
            base_url + "/embeddings",
            json={"model": world.models["embed"], "input": "hello", "encoding_format": fmt},
            headers=auth(world.secret),
        )
        assert r.status_code == 200
        embedding = r.json()["data"][0]["embedding"]
        if fmt == "base64":
            raw = base64.b64decode(embedding)
            embedding = list(struct.unpack(f"<{len(raw) // 4}f", raw))
        assert embedding == fake_vector("hello", 8)
        record = world.record_for(r.headers["x-request-id"])
        assert record["endpoint"] == "embeddings" and record["prompt_tokens"] == 2
        # 2 tokens * $1.00/1M * 1.10
        assert record["cost"] == Decimal("0.00000220")


def test_a_chat_model_is_refused_on_embeddings(base_url: str, world: World) -> None:
    r = httpx.post(
        base_url + "/embeddings",
        json={"model": world.models["gpt"], "input": "x"},
        headers=auth(world.secret),
    )
    assert r.status_code == 400 and r.json()["error"]["param"] == "model"
    r = httpx.post(
        base_url + "/embeddings", json={"model": world.models["embed"]}, headers=auth(world.secret)
    )
    assert r.status_code == 400 and r.json()["error"]["param"] == "input"
    assert world.fakes["openai"].requests == []


def test_a_client_that_leaves_is_billed_for_its_input(base_url: str, world: World) -> None:
    """As chat does: the input reached the upstream (which bills it), so the request is
    recorded and its reservation settled even though no answer was delivered."""
    from apps.billing.models import LedgerEntry, Reservation

    world.fakes["openai"].script(delay=1.5)  # the upstream is slow to answer
    before = {r["request_id"] for r in world.usage_records()}
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(
            base_url + "/embeddings",
            json={"model": world.models["embed"], "input": "a" * 400},
            headers=auth(world.secret),
            timeout=httpx.Timeout(5, read=0.4),  # the client gives up and goes away
        )
    deadline = time.monotonic() + 5
    while not (new := [r for r in world.usage_records() if r["request_id"] not in before]):
        assert time.monotonic() < deadline, "the abandoned request was never recorded"
        time.sleep(0.05)
    [record] = new
    assert record["endpoint"] == "embeddings" and record["status"] == "client_closed"
    assert record["prompt_tokens"] >= 100 and record["usage_reported"] is False
    assert record["cost"] > 0
    reservation = Reservation.objects.get(request_id=record["request_id"])
    assert reservation.state == Reservation.State.SETTLED
    assert reservation.actual_cost == record["cost"]
    entry = LedgerEntry.objects.get(request_id=record["request_id"])
    assert entry.amount == -record["cost"]
