"""End to end through the live gateway (mock provider): what a request is billed for.

- Cost headers are plain decimals with at most 8 places (a stream's reserved cost once
  read `0.000150000000000000000000`).
- `n` choices are served and billed n times.
- An image in the prompt is billed (the mock counts it as OpenAI does; it was free).
- Garbage usage from the upstream is billed from the gateway's estimate and logged with
  the provider and request id.
"""

from __future__ import annotations

import base64
import logging
import re
import struct
from decimal import Decimal

import httpx
import pytest

from apps.billing.services import set_key_limit
from apps.gateway.service import cost_header
from tests.support.live import World, auth, user_message

PLAIN_DECIMAL = re.compile(r"^\d+(\.\d{1,8})?$")


def png(width: int, height: int) -> str:
    header = b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR"
    header += struct.pack(">II", width, height) + b"\x08\x02\x00\x00\x00" + b"\x00" * 64
    return "data:image/png;base64," + base64.b64encode(header).decode()


def test_the_cost_header_is_a_plain_decimal_with_at_most_8_places() -> None:
    assert cost_header(Decimal("0.000150000000000000000000")) == "0.00015"
    assert cost_header(Decimal(0).quantize(Decimal("0.00000001"))) == "0"  # not 0E-8
    assert cost_header(Decimal("1.123456789")) == "1.12345679"
    assert cost_header(Decimal("12")) == "12"
    assert cost_header(Decimal("1E+2")) == "100"


@pytest.mark.parametrize("stream", [False, True])
def test_cost_headers_on_a_served_request_are_plain(
    base_url: str, world: World, stream: bool
) -> None:
    body = {"model": world.models["mock"], "messages": user_message(), "stream": stream}
    with httpx.stream(
        "POST", base_url + "/chat/completions", json=body, headers=auth(world.secret)
    ) as r:
        r.read()
    assert r.status_code == 200
    for name in ("x-cloudfreedom-cost", "x-cloudfreedom-budget-remaining"):
        assert PLAIN_DECIMAL.match(r.headers[name]), (name, r.headers[name])
    if stream:
        assert PLAIN_DECIMAL.match(r.headers["x-cloudfreedom-cost-reserved"])


def _ask(base_url: str, world: World, **extra: object) -> httpx.Response:
    body = {"model": world.models["mock"], "messages": user_message("same question"), **extra}
    r = httpx.post(base_url + "/chat/completions", json=body, headers=auth(world.secret))
    assert r.status_code == 200, r.text
    return r


def test_n_choices_are_served_and_billed_n_times(base_url: str, world: World) -> None:
    one = world.record_for(_ask(base_url, world).headers["x-request-id"])
    r = _ask(base_url, world, n=3)
    assert [c["index"] for c in r.json()["choices"]] == [0, 1, 2]
    three = world.record_for(r.headers["x-request-id"])
    assert three["completion_tokens"] == 3 * one["completion_tokens"]
    assert three["prompt_tokens"] == one["prompt_tokens"]
    assert three["cost"] > one["cost"]


def test_an_image_in_the_prompt_is_billed(base_url: str, world: World) -> None:
    text = {"type": "text", "text": "what is this"}
    image = {"type": "image_url", "image_url": {"url": png(1024, 1024)}}
    plain = _ask(base_url, world, messages=[{"role": "user", "content": [text]}])
    seen = _ask(base_url, world, messages=[{"role": "user", "content": [text, image]}])
    billed = world.record_for(seen.headers["x-request-id"])["prompt_tokens"]
    assert billed - world.record_for(plain.headers["x-request-id"])["prompt_tokens"] == 765


def test_garbage_upstream_usage_is_billed_from_the_estimate_and_logged(
    base_url: str, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="cloudfreedom.gateway.chat")
    good = _ask(base_url, world, messages=user_message("tell me [mock:usage=regular]"))
    bad = _ask(base_url, world, messages=user_message("tell me [mock:usage=garbage]"))
    request_id = bad.headers["x-request-id"]
    record = world.record_for(request_id)
    assert record["usage_reported"] is False
    assert (
        record["prompt_tokens"] == world.record_for(good.headers["x-request-id"])["prompt_tokens"]
    )
    assert record["prompt_tokens"] > 0 and record["cost"] > 0
    assert bad.json()["usage"]["prompt_tokens"] == record["prompt_tokens"]
    warnings = [r.getMessage() for r in caplog.records if "upstream_usage_rejected" in r.msg]
    assert any(request_id in m and "provider=" in m for m in warnings), warnings


def test_a_stream_with_garbage_usage_is_billed_from_what_it_streamed_and_logged(
    base_url: str, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="cloudfreedom.gateway.chat")
    body = {
        "model": world.models["mock"],
        "messages": user_message("tell me [mock:usage=garbage]"),
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    with httpx.stream(
        "POST", base_url + "/chat/completions", json=body, headers=auth(world.secret)
    ) as r:
        text = r.read().decode()
    request_id = r.headers["x-request-id"]
    record = world.record_for(request_id)
    assert record["usage_reported"] is False and record["cost"] > 0
    assert record["completion_tokens"] > 0 and record["prompt_tokens"] > 0
    assert '"prompt_tokens":-1000' not in text  # the client sees the gateway's count
    assert f'"prompt_tokens":{record["prompt_tokens"]}' in text
    warnings = [r.getMessage() for r in caplog.records if "upstream_usage_rejected" in r.msg]
    assert any(request_id in m for m in warnings), warnings


def test_the_budget_refusal_header_is_plain_too(base_url: str, world: World) -> None:
    key, secret = world.new_key(name="tiny-budget-header")
    set_key_limit(key, Decimal("0.00000001"))
    body = {"model": world.models["mock"], "messages": user_message("x" * 4000)}
    r = httpx.post(base_url + "/chat/completions", json=body, headers=auth(secret))
    assert r.status_code == 402, r.text
    assert PLAIN_DECIMAL.match(r.headers["x-cloudfreedom-budget-remaining"])


def test_the_reservation_covers_n_choices_and_images(base_url: str, world: World) -> None:
    def reserved(**extra: object) -> Decimal:
        body = {"model": world.models["mock"], "stream": True, **extra}
        body.setdefault("messages", user_message("same question"))
        with httpx.stream(
            "POST", base_url + "/chat/completions", json=body, headers=auth(world.secret)
        ) as r:
            r.read()
        assert r.status_code == 200
        return Decimal(r.headers["x-cloudfreedom-cost-reserved"])

    one = reserved(max_tokens=100)
    assert reserved(max_tokens=100, n=3) > 2 * one
    image = {"type": "image_url", "image_url": {"url": png(1024, 1024)}}
    content = [{"type": "text", "text": "same question"}, image]
    assert reserved(max_tokens=100, messages=[{"role": "user", "content": content}]) > one
