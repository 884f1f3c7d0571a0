from __future__ import annotations

import asyncio
import socket
from typing import Any

import aiohttp

from apps.gateway.providers.base import UpstreamError, UpstreamTarget, is_usage_chunk
from apps.gateway.providers.embeddings import decode_base64_floats
from apps.gateway.providers.registry import get_adapter
from apps.gateway.providers.tokens import estimate_prompt_tokens, estimate_text_tokens
from tests.fakes.runner import FakeUpstream
from tests.gateway.providers.support import (
    REQUEST,
    chat,
    chat_error,
    embeddings,
    finish_reasons,
    stream,
    target,
    text_of,
    tool_calls_of,
    with_session,
)

WEATHER = ({"name": "get_weather", "arguments": {"city": "Paris"}},)


def test_it_sends_the_upstream_model_and_bearer_key(openai_fake: FakeUpstream) -> None:
    result = chat(target(openai_fake, "openai"), {**REQUEST, "max_tokens": 20})
    assert result.response["choices"][0]["message"]["content"] == "Hello from the fake upstream."
    assert result.usage.prompt_tokens == 17
    assert result.usage.completion_tokens == 8
    assert result.usage.reported
    sent = openai_fake.requests[0]
    assert sent.path == "/v1/chat/completions"
    assert sent.headers["authorization"] == "Bearer sk-test-123456"
    assert sent.json["model"] == "up-model"
    assert sent.json["max_completion_tokens"] == 20
    assert "max_tokens" not in sent.json
    assert "stream" not in sent.json


def test_compatible_servers_get_max_tokens(openai_fake: FakeUpstream) -> None:
    chat(target(openai_fake, "openai_compatible"), {**REQUEST, "max_completion_tokens": 20})
    sent = openai_fake.requests[0].json
    assert sent["max_tokens"] == 20
    assert "max_completion_tokens" not in sent


def test_extra_headers_are_sent(openai_fake: FakeUpstream) -> None:
    tgt = target(openai_fake, "openai", extra_headers=(("OpenAI-Project", "proj_1"),))
    chat(tgt)
    assert openai_fake.requests[0].headers["openai-project"] == "proj_1"


def test_cached_tokens_are_read_from_usage(openai_fake: FakeUpstream) -> None:
    openai_fake.script(prompt_tokens=100, cached_tokens=60)
    usage = chat(target(openai_fake, "openai")).usage
    assert (usage.prompt_tokens, usage.cached_tokens) == (100, 60)


def test_a_response_without_usage_is_estimated(openai_fake: FakeUpstream) -> None:
    openai_fake.script(usage=False)
    usage = chat(target(openai_fake, "openai")).usage
    assert not usage.reported
    assert usage.prompt_tokens == estimate_prompt_tokens(REQUEST)
    assert usage.completion_tokens == estimate_text_tokens("Hello from the fake upstream.")


def test_streaming_always_asks_for_usage_and_yields_the_usage_chunk(
    openai_fake: FakeUpstream,
) -> None:
    openai_fake.script(chunks=10, text="0123456789" * 3)
    request = {**REQUEST, "stream_options": {"include_obfuscation": False}}
    chunks, opened, error = stream(target(openai_fake, "openai"), request)
    assert error is None
    assert openai_fake.requests[0].json["stream_options"] == {
        "include_obfuscation": False,
        "include_usage": True,
    }
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert text_of(chunks) == "0123456789" * 3
    assert (
        len([c for c in chunks if c["choices"] and c["choices"][0]["delta"].get("content")]) == 10
    )
    assert is_usage_chunk(chunks[-1])
    assert not any(is_usage_chunk(c) for c in chunks[:-1])
    assert opened.usage.reported
    assert opened.usage.prompt_tokens == 17


def test_streamed_tool_calls_keep_their_index(openai_fake: FakeUpstream) -> None:
    two = (*WEATHER, {"name": "get_time", "arguments": {"tz": "CET"}})
    openai_fake.script(tool_calls=two, text="")
    chunks, _, error = stream(target(openai_fake, "openai"))
    assert error is None
    calls = tool_calls_of(chunks)
    assert calls[0]["name"] == "get_weather"
    assert calls[0]["arguments"] == '{"city":"Paris"}'
    assert calls[1] == {"id": "call_fake1", "name": "get_time", "arguments": '{"tz":"CET"}'}
    assert finish_reasons(chunks) == ["tool_calls"]


def test_a_stream_without_usage_is_counted(openai_fake: FakeUpstream) -> None:
    openai_fake.script(usage=False, text="abcdefgh" * 4)
    chunks, opened, error = stream(target(openai_fake, "openai"))
    assert error is None
    assert not any(is_usage_chunk(c) for c in chunks)
    assert not opened.usage.reported
    assert opened.usage.prompt_tokens == estimate_prompt_tokens(REQUEST)
    assert opened.usage.completion_tokens == 8


def test_a_cut_stream_raises_after_counting_what_was_streamed(openai_fake: FakeUpstream) -> None:
    openai_fake.script(text="abcd" * 10, chunks=10, cut_after=3)
    chunks, opened, error = stream(target(openai_fake, "openai"))
    assert error is not None
    assert (error.kind, error.retryable) == ("stream_cut", False)
    assert text_of(chunks) == "abcd" * 3
    assert opened.usage.completion_tokens == 3
    assert opened.usage.prompt_tokens == estimate_prompt_tokens(REQUEST)
    assert not opened.usage.reported


def test_cut_tool_call_arguments_are_counted(openai_fake: FakeUpstream) -> None:
    openai_fake.script(tool_calls=WEATHER, text="", cut_after=2)
    _, opened, error = stream(target(openai_fake, "openai"))
    assert error is not None and error.kind == "stream_cut"
    assert opened.usage.completion_tokens == estimate_text_tokens("get_weather" + '{"city":')


def test_a_mid_stream_error_event_raises(openai_fake: FakeUpstream) -> None:
    openai_fake.script(stream_error_after=2)
    chunks, opened, error = stream(target(openai_fake, "openai"))
    assert error is not None
    assert not error.retryable
    assert "stream error" in error.message
    assert len(text_of(chunks)) > 0
    assert not opened.usage.reported


def test_http_errors_become_upstream_errors(openai_fake: FakeUpstream) -> None:
    tgt = target(openai_fake, "openai")
    openai_fake.script(status=429, retry_after="2")
    err = chat_error(tgt)
    assert (err.status, err.kind, err.retryable, err.retry_after) == (
        429,
        "rate_limited",
        True,
        2.0,
    )
    openai_fake.script(status=429, error_code="insufficient_quota")
    err = chat_error(tgt)
    assert (err.status, err.retryable, err.code) == (429, False, "insufficient_quota")
    for status in (500, 503):
        openai_fake.script(status=status)
        err = chat_error(tgt)
        assert (err.status, err.kind, err.retryable) == (status, "server", True)
    openai_fake.script(status=404, error_code="model_not_found")
    err = chat_error(tgt)
    assert (err.status, err.kind, err.retryable) == (404, "client", False)


def test_stream_errors_are_raised_before_returning(openai_fake: FakeUpstream) -> None:
    openai_fake.script(status=503, retry_after_ms=250)
    adapter = get_adapter("openai")
    tgt = target(openai_fake, "openai")
    try:
        with_session(lambda s: adapter.chat_stream(s, tgt, {**REQUEST, "stream": True}))
    except UpstreamError as err:
        assert (err.status, err.retryable, err.retry_after) == (503, True, 0.25)
    else:
        raise AssertionError("expected UpstreamError")


def test_model_name_directives_script_a_request(openai_fake: FakeUpstream) -> None:
    err = chat_error(target(openai_fake, "openai", model="fake-error-503"))
    assert err.status == 503


def test_a_slow_upstream_times_out(openai_fake: FakeUpstream) -> None:
    openai_fake.script(delay=1.0)
    err = chat_error(target(openai_fake, "openai", timeout=0.2))
    assert (err.kind, err.status, err.retryable) == ("timeout", None, True)


def test_a_stalled_stream_times_out_after_counting(openai_fake: FakeUpstream) -> None:
    openai_fake.script(chunk_delay=1.0, chunks=3)
    _chunks, opened, error = stream(target(openai_fake, "openai", timeout=0.2))
    assert error is not None
    assert (error.kind, error.retryable) == ("timeout", False)
    assert not opened.usage.reported


def test_an_unreachable_upstream_is_a_connection_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    err = chat_error(UpstreamTarget("openai", "dead", f"http://127.0.0.1:{port}/v1", "m"))
    assert (err.kind, err.retryable, err.status) == ("connection", True, None)


def test_aclose_releases_the_upstream_and_finalises_usage(openai_fake: FakeUpstream) -> None:
    openai_fake.script(text="abcd" * 20, chunks=20, chunk_delay=0.05)
    adapter = get_adapter("openai")
    tgt = target(openai_fake, "openai")

    async def run(session: aiohttp.ClientSession) -> Any:
        opened = await adapter.chat_stream(session, tgt, {**REQUEST, "stream": True})
        seen = []
        async for item in opened:
            seen.append(item)
            if len(seen) == 3:
                break
        await opened.aclose()
        return seen, opened

    seen, opened = with_session(run)
    assert text_of(seen) == "abcd" * 2
    assert not opened.usage.reported
    assert opened.usage.completion_tokens == 2


def test_aclose_from_another_task_stops_a_blocked_read(openai_fake: FakeUpstream) -> None:
    openai_fake.script(chunks=3, chunk_delay=5.0)
    adapter = get_adapter("openai")
    tgt = target(openai_fake, "openai")

    async def run(session: aiohttp.ClientSession) -> Any:
        opened = await adapter.chat_stream(session, tgt, {**REQUEST, "stream": True})

        async def consume() -> Any:
            try:
                async for _ in opened:
                    pass
            except UpstreamError as exc:
                return exc
            return None

        task = asyncio.create_task(consume())
        await asyncio.sleep(0.1)
        await opened.aclose()
        return await asyncio.wait_for(task, 2), opened

    error, opened = with_session(run)
    assert error is not None and error.kind == "stream_cut"
    assert opened.usage.prompt_tokens == estimate_prompt_tokens(REQUEST)


def test_embeddings_pass_through_float_and_base64(openai_fake: FakeUpstream) -> None:
    tgt = target(openai_fake, "openai", model="text-embedding-3-small")
    floats = embeddings(tgt, {"model": "alias", "input": ["a", "b"], "dimensions": 4})
    assert [len(d["embedding"]) for d in floats.response["data"]] == [4, 4]
    assert floats.usage.reported
    encoded = embeddings(
        tgt, {"model": "alias", "input": ["a", "b"], "dimensions": 4, "encoding_format": "base64"}
    )
    assert [decode_base64_floats(d["embedding"]) for d in encoded.response["data"]] == [
        d["embedding"] for d in floats.response["data"]
    ]
    assert openai_fake.requests[0].json["model"] == "text-embedding-3-small"
