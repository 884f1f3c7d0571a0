from __future__ import annotations

from apps.gateway.providers.base import UpstreamError, is_usage_chunk
from apps.gateway.providers.tokens import estimate_prompt_tokens
from apps.gateway.translate.anthropic_messages import DEFAULT_MAX_TOKENS
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


def test_it_translates_the_request_and_the_answer(anthropic_fake: FakeUpstream) -> None:
    request = {**REQUEST, "temperature": 1.5, "stop": "END"}
    result = chat(target(anthropic_fake, "anthropic"), request)
    sent = anthropic_fake.requests[0]
    assert sent.path == "/v1/messages"
    assert sent.headers["x-api-key"] == "sk-test-123456"
    assert sent.headers["anthropic-version"] == "2023-06-01"
    assert sent.json["model"] == "up-model"
    assert sent.json["system"] == "Be terse."
    assert sent.json["max_tokens"] == DEFAULT_MAX_TOKENS
    assert sent.json["temperature"] == 1.0
    assert sent.json["stop_sequences"] == ["END"]
    assert sent.json["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "What is the weather in Paris?"}]}
    ]
    message = result.response["choices"][0]
    assert message["message"]["content"] == "Hello from the fake upstream."
    assert message["finish_reason"] == "stop"
    assert result.usage.reported


def test_cache_tokens_are_added_to_the_prompt(anthropic_fake: FakeUpstream) -> None:
    anthropic_fake.script(prompt_tokens=100, cached_tokens=30, cache_write_tokens=20)
    result = chat(target(anthropic_fake, "anthropic"))
    usage = result.usage
    assert (usage.prompt_tokens, usage.cached_tokens, usage.cache_write_tokens) == (100, 30, 20)
    assert result.response["usage"]["prompt_tokens"] == 100
    assert result.response["usage"]["prompt_tokens_details"]["cached_tokens"] == 30


def test_tool_use_answers_become_tool_calls(anthropic_fake: FakeUpstream) -> None:
    anthropic_fake.script(tool_calls=WEATHER, text="Let me check.")
    choice = chat(target(anthropic_fake, "anthropic")).response["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"]["content"] == "Let me check."
    call = choice["message"]["tool_calls"][0]
    assert call["function"] == {"name": "get_weather", "arguments": '{"city":"Paris"}'}


def test_streaming_yields_openai_chunks_and_usage(anthropic_fake: FakeUpstream) -> None:
    anthropic_fake.script(chunks=10, text="x" * 40, prompt_tokens=50, cached_tokens=10)
    chunks, opened, error = stream(target(anthropic_fake, "anthropic"))
    assert error is None
    assert anthropic_fake.requests[0].json["stream"] is True
    assert chunks[0]["object"] == "chat.completion.chunk"
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert text_of(chunks) == "x" * 40
    assert finish_reasons(chunks) == ["stop"]
    assert is_usage_chunk(chunks[-1])
    assert chunks[-1]["usage"]["prompt_tokens"] == 50
    assert opened.usage.reported
    assert (opened.usage.prompt_tokens, opened.usage.cached_tokens) == (50, 10)
    assert opened.usage.completion_tokens == 10


def test_streamed_tool_use_becomes_indexed_tool_calls(anthropic_fake: FakeUpstream) -> None:
    two = (*WEATHER, {"name": "get_time", "arguments": {"tz": "CET"}})
    anthropic_fake.script(tool_calls=two, text="Checking.")
    chunks, _, error = stream(target(anthropic_fake, "anthropic"))
    assert error is None
    calls = tool_calls_of(chunks)
    assert calls[0] == {"id": "toolu_fake0", "name": "get_weather", "arguments": '{"city":"Paris"}'}
    assert calls[1] == {"id": "toolu_fake1", "name": "get_time", "arguments": '{"tz":"CET"}'}
    assert finish_reasons(chunks) == ["tool_calls"]


def test_a_cut_stream_keeps_the_exact_input_count(anthropic_fake: FakeUpstream) -> None:
    anthropic_fake.script(prompt_tokens=500, text="abcd" * 8, chunks=8, cut_after=2)
    chunks, opened, error = stream(target(anthropic_fake, "anthropic"))
    assert error is not None and (error.kind, error.retryable) == ("stream_cut", False)
    assert text_of(chunks) == "abcd" * 2
    assert opened.usage.prompt_tokens == 500  # from message_start
    assert opened.usage.completion_tokens == 2
    assert not opened.usage.reported


def test_a_stream_without_usage_is_counted(anthropic_fake: FakeUpstream) -> None:
    anthropic_fake.script(usage=False)
    chunks, opened, error = stream(target(anthropic_fake, "anthropic"))
    assert error is None
    assert not any(is_usage_chunk(c) for c in chunks)
    assert not opened.usage.reported
    assert opened.usage.prompt_tokens == estimate_prompt_tokens(REQUEST)


def test_an_error_event_mid_stream_raises(anthropic_fake: FakeUpstream) -> None:
    anthropic_fake.script(stream_error_after=1)
    chunks, opened, error = stream(target(anthropic_fake, "anthropic"))
    assert error is not None
    assert (error.kind, error.code, error.retryable) == ("server", "overloaded_error", False)
    assert text_of(chunks)
    assert opened.usage.prompt_tokens == 17


def test_http_errors_map_to_upstream_errors(anthropic_fake: FakeUpstream) -> None:
    tgt = target(anthropic_fake, "anthropic")
    anthropic_fake.script(status=529)
    err = chat_error(tgt)
    assert (err.status, err.kind, err.retryable, err.code) == (
        529,
        "server",
        True,
        "overloaded_error",
    )
    anthropic_fake.script(status=429, retry_after="7")
    err = chat_error(tgt)
    assert (err.kind, err.retry_after) == ("rate_limited", 7.0)
    anthropic_fake.script(status=400, error_message="prompt is too long")
    err = chat_error(tgt)
    assert (err.kind, err.retryable) == ("client", False)
    assert "prompt is too long" in err.message


def test_unsupported_content_is_refused_before_sending(anthropic_fake: FakeUpstream) -> None:
    audio = {"type": "input_audio", "input_audio": {"data": "AAAA", "format": "wav"}}
    request = {"model": "m", "messages": [{"role": "user", "content": [audio]}]}
    err = chat_error(target(anthropic_fake, "anthropic"), request)
    assert (err.status, err.kind) == (400, "client")
    assert anthropic_fake.requests == []


def test_embeddings_are_not_supported(anthropic_fake: FakeUpstream) -> None:
    try:
        embeddings(target(anthropic_fake, "anthropic"), {"model": "m", "input": "x"})
    except UpstreamError as err:
        assert (err.status, err.kind, err.message) == (
            400,
            "client",
            "provider does not support embeddings",
        )
    else:
        raise AssertionError("expected UpstreamError")
    assert anthropic_fake.requests == []
