from __future__ import annotations

import asyncio

import aiohttp

from apps.gateway.providers.base import is_usage_chunk
from apps.gateway.providers.tokens import estimate_prompt_tokens
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
)

WEATHER = ({"name": "get_weather", "arguments": {"city": "Paris"}},)


def test_it_calls_generate_content_with_the_key_header(gemini_fake: FakeUpstream) -> None:
    request = {**REQUEST, "max_tokens": 64, "response_format": {"type": "json_object"}}
    result = chat(target(gemini_fake, "gemini", model="gemini-2.5-flash"), request)
    sent = gemini_fake.requests[0]
    assert sent.path == "/v1beta/models/gemini-2.5-flash:generateContent"
    assert sent.headers["x-goog-api-key"] == "sk-test-123456"
    assert sent.json["systemInstruction"] == {"parts": [{"text": "Be terse."}]}
    assert sent.json["generationConfig"] == {
        "maxOutputTokens": 64,
        "responseMimeType": "application/json",
    }
    assert result.response["choices"][0]["message"]["content"] == "Hello from the fake upstream."
    assert result.usage.reported and result.usage.prompt_tokens == 17


def test_thoughts_are_billed_as_completion(gemini_fake: FakeUpstream) -> None:
    gemini_fake.script(completion_tokens=30, reasoning_tokens=20, cached_tokens=5)
    result = chat(target(gemini_fake, "gemini"))
    assert result.usage.completion_tokens == 30
    assert result.usage.cached_tokens == 5
    details = result.response["usage"]["completion_tokens_details"]
    assert details["reasoning_tokens"] == 20


def test_function_calls_finish_as_tool_calls(gemini_fake: FakeUpstream) -> None:
    gemini_fake.script(tool_calls=WEATHER, text="")
    choice = chat(target(gemini_fake, "gemini")).response["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    call = choice["message"]["tool_calls"][0]
    assert call["id"].startswith("call_")
    assert call["function"] == {"name": "get_weather", "arguments": '{"city":"Paris"}'}


def test_streaming_parses_crlf_framed_fragments(gemini_fake: FakeUpstream) -> None:
    gemini_fake.script(chunks=10, text="y" * 30)
    chunks, opened, error = stream(target(gemini_fake, "gemini", model="g"))
    assert error is None
    sent = gemini_fake.requests[0]
    assert sent.path == "/v1beta/models/g:streamGenerateContent"
    assert sent.query == {"alt": "sse"}
    assert text_of(chunks) == "y" * 30
    assert finish_reasons(chunks) == ["stop"]
    assert is_usage_chunk(chunks[-1])
    assert opened.usage.reported and opened.usage.completion_tokens == 8


def test_streamed_function_calls_arrive_whole(gemini_fake: FakeUpstream) -> None:
    gemini_fake.script(tool_calls=(*WEATHER, {"name": "get_time", "arguments": {}}), text="")
    chunks, _, error = stream(target(gemini_fake, "gemini"))
    assert error is None
    calls = tool_calls_of(chunks)
    assert [calls[0]["name"], calls[1]["name"]] == ["get_weather", "get_time"]
    assert calls[0]["arguments"] == '{"city":"Paris"}'
    assert finish_reasons(chunks) == ["tool_calls"]


def test_a_stream_closed_before_finish_reason_is_cut(gemini_fake: FakeUpstream) -> None:
    gemini_fake.script(text="abcd" * 6, chunks=6, cut_after=2, prompt_tokens=99)
    chunks, opened, error = stream(target(gemini_fake, "gemini"))
    assert error is not None and error.kind == "stream_cut"
    assert text_of(chunks) == "abcd" * 2
    assert opened.usage.prompt_tokens == 99  # partial usageMetadata carried the prompt count
    assert opened.usage.completion_tokens == 2
    assert not opened.usage.reported


def test_a_stream_without_usage_is_counted(gemini_fake: FakeUpstream) -> None:
    gemini_fake.script(usage=False)
    chunks, opened, error = stream(target(gemini_fake, "gemini"))
    assert error is None
    assert not any(is_usage_chunk(c) for c in chunks)
    assert not opened.usage.reported
    assert opened.usage.prompt_tokens == estimate_prompt_tokens(REQUEST)


def test_http_errors_map_to_upstream_errors(gemini_fake: FakeUpstream) -> None:
    gemini_fake.script(status=503)
    err = chat_error(target(gemini_fake, "gemini"))
    assert (err.status, err.kind, err.retryable, err.code) == (503, "server", True, "UNAVAILABLE")
    gemini_fake.script(status=400, error_message="API key not valid.")
    err = chat_error(target(gemini_fake, "gemini"))
    assert (err.status, err.retryable) == (400, False)


def test_embeddings_use_batch_embed_contents(gemini_fake: FakeUpstream) -> None:
    tgt = target(gemini_fake, "gemini", model="gemini-embedding-001")
    result = embeddings(tgt, {"model": "alias", "input": ["a", "b"], "dimensions": 6})
    sent = gemini_fake.requests[0]
    assert sent.path == "/v1beta/models/gemini-embedding-001:batchEmbedContents"
    assert sent.json["requests"][0] == {
        "model": "models/gemini-embedding-001",
        "outputDimensionality": 6,
        "content": {"parts": [{"text": "a"}]},
    }
    assert [len(d["embedding"]) for d in result.response["data"]] == [6, 6]
    assert [d["index"] for d in result.response["data"]] == [0, 1]
    assert not result.usage.reported


def test_the_fake_accepts_v1_and_query_keys(gemini_fake: FakeUpstream) -> None:
    async def main() -> tuple[int, int]:
        async with aiohttp.ClientSession() as session:
            url = gemini_fake.root_url + "/v1/models/g:generateContent?key=k"
            async with session.post(url, json={"contents": []}) as ok:
                good = ok.status
            url = gemini_fake.root_url + "/v1/models/g:generateContent"
            async with session.post(url, json={"contents": []}) as denied:
                return good, denied.status

    assert asyncio.run(main()) == (200, 403)
