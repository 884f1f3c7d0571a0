"""SSE streaming: usage chunk handling, cut upstreams, and clients that leave."""

from __future__ import annotations

import time

import httpx
import openai
import orjson

from tests.support.live import World, auth, user_message


def sse_payloads(text: str) -> list[str]:
    return [line[6:] for line in text.splitlines() if line.startswith("data: ")]


def test_it_strips_the_usage_chunk_unless_asked(base_url: str, world: World) -> None:
    r = httpx.post(
        base_url + "/chat/completions",
        json={"model": world.models["gpt"], "messages": user_message(), "stream": True},
        headers=auth(world.secret),
    )
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/event-stream")
    payloads = sse_payloads(r.text)
    assert payloads[-1] == "[DONE]"
    chunks = [orjson.loads(p) for p in payloads[:-1]]
    assert all(c["choices"] for c in chunks)  # no usage-only chunk
    assert all(c["model"] == world.models["gpt"] for c in chunks)
    # ...but usage was asked upstream and recorded.
    assert world.fakes["openai"].requests[-1].json["stream_options"] == {"include_usage": True}
    record = world.record_for(r.headers["x-request-id"])
    assert (record["prompt_tokens"], record["completion_tokens"]) == (17, 8)
    assert record["streamed"] is True and record["status"] == "success"
    assert record["ttft_ms"] is not None
    assert r.headers["x-cloudfreedom-cost"] == r.headers["x-cloudfreedom-cost-reserved"]


def test_it_keeps_the_usage_chunk_when_asked(base_url: str, world: World) -> None:
    c = openai.OpenAI(base_url=base_url, api_key=world.secret, max_retries=0)
    stream = c.chat.completions.create(
        model=world.models["gpt"],
        messages=user_message(),
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    text = "".join(ch.choices[0].delta.content or "" for ch in chunks if ch.choices)
    assert text == "Hello from the fake upstream."
    assert chunks[-1].usage is not None and chunks[-1].usage.prompt_tokens == 17


def test_a_cut_upstream_stream_ends_with_an_error_and_is_billed(
    base_url: str, world: World
) -> None:
    world.fakes["openai"].script(chunks=6, cut_after=2)
    r = httpx.post(
        base_url + "/chat/completions",
        json={"model": world.models["gpt"], "messages": user_message(), "stream": True},
        headers=auth(world.secret),
    )
    payloads = sse_payloads(r.text)
    assert "[DONE]" not in payloads
    assert "error" in orjson.loads(payloads[-1])
    record = world.record_for(r.headers["x-request-id"])
    assert record["status"] == "error" and record["error_type"] == "stream_cut"
    assert record["completion_tokens"] > 0 and record["usage_reported"] is False
    assert record["cost"] > 0


def test_a_client_that_leaves_closes_the_upstream_and_is_billed(
    base_url: str, world: World
) -> None:
    world.fakes["openai"].script(chunks=20, chunk_delay=0.1, text="word " * 40)
    started = time.monotonic()
    with httpx.stream(
        "POST",
        base_url + "/chat/completions",
        json={"model": world.models["gpt"], "messages": user_message(), "stream": True},
        headers=auth(world.secret),
    ) as r:
        request_id = r.headers["x-request-id"]
        seen = 0
        for line in r.iter_lines():
            if line.startswith("data: "):
                seen += 1
            if seen >= 3:
                break
    record = world.record_for(request_id, timeout=3)
    # Recorded long before the 2 s the full stream would take: the upstream was dropped.
    assert time.monotonic() - started < 1.8
    assert record["status"] == "client_closed"
    assert 0 < record["completion_tokens"] < 50
    assert record["usage_reported"] is False
    assert record["prompt_tokens"] > 0


def test_async_sdk_streams(base_url: str, world: World) -> None:
    import asyncio

    async def run() -> str:
        async with openai.AsyncOpenAI(base_url=base_url, api_key=world.secret, max_retries=0) as c:
            stream = await c.chat.completions.create(
                model=world.models["claude"], messages=user_message(), stream=True
            )
            return "".join([ch.choices[0].delta.content or "" async for ch in stream if ch.choices])

    assert asyncio.run(run()) == "Hello from the fake upstream."
