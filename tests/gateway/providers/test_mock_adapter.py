from __future__ import annotations

import time
from typing import Any

from apps.gateway.providers.base import is_usage_chunk
from apps.gateway.providers.embeddings import decode_base64_floats
from apps.gateway.providers.mock import FINGERPRINT
from tests.gateway.providers.support import (
    chat,
    chat_error,
    embeddings,
    finish_reasons,
    stream,
    target,
    text_of,
    tool_calls_of,
)


def ask(text: str, **extra: Any) -> dict[str, Any]:
    return {"model": "demo", "messages": [{"role": "user", "content": text}], **extra}


def test_the_answer_is_deterministic_and_labelled() -> None:
    first = chat(target(None, "mock", "mock"), ask("Hello   mock"))
    second = chat(target(None, "mock", "mock"), ask("Hello   mock"))
    assert first.response["choices"] == second.response["choices"]
    assert first.response["id"] == second.response["id"]
    assert first.response["choices"][0]["message"]["content"] == "Mock answer: Hello mock"
    assert first.response["system_fingerprint"] == FINGERPRINT
    assert first.usage.reported and first.usage.completion_tokens > 0


def test_max_tokens_truncates_with_length() -> None:
    result = chat(target(None, "mock"), ask("x" * 100, max_tokens=5))
    choice = result.response["choices"][0]
    assert choice["finish_reason"] == "length"
    assert len(choice["message"]["content"]) == 20
    assert result.usage.completion_tokens == 5


def test_it_streams_the_same_answer_in_the_requested_chunks() -> None:
    plain = chat(target(None, "mock"), ask("stream me [mock:chunks=10]"))
    chunks, opened, error = stream(target(None, "mock"), ask("stream me [mock:chunks=10]"))
    assert error is None
    content = [c for c in chunks if c["choices"] and c["choices"][0]["delta"].get("content")]
    assert len(content) == 10
    assert text_of(chunks) == plain.response["choices"][0]["message"]["content"]
    assert all(c["system_fingerprint"] == FINGERPRINT for c in chunks)
    assert is_usage_chunk(chunks[-1])
    assert opened.usage == plain.usage


def test_error_directives_raise_upstream_errors() -> None:
    err = chat_error(target(None, "mock"), ask("[mock:error=503] hi"))
    assert (err.status, err.kind, err.retryable) == (503, "server", True)
    err = chat_error(target(None, "mock"), ask("[mock:error=429]"))
    assert (err.kind, err.retry_after) == ("rate_limited", 1.0)
    err = chat_error(target(None, "mock"), ask("[mock:error=400]"))
    assert not err.retryable


def test_tool_directive_and_required_tool_choice_call_tools() -> None:
    chunks, _, error = stream(target(None, "mock"), ask("weather? [mock:tool=get_weather]"))
    assert error is None
    assert tool_calls_of(chunks)[0]["name"] == "get_weather"
    assert finish_reasons(chunks) == ["tool_calls"]
    tools = [{"type": "function", "function": {"name": "lookup", "parameters": {}}}]
    result = chat(target(None, "mock"), ask("find it", tools=tools, tool_choice="required"))
    assert result.response["choices"][0]["message"]["tool_calls"][0]["function"]["name"] == "lookup"


def test_cut_directive_counts_the_streamed_part() -> None:
    _chunks, opened, error = stream(target(None, "mock"), ask("[mock:chunks=5][mock:cut=2] abc"))
    assert error is not None and error.kind == "stream_cut"
    assert not opened.usage.reported
    assert opened.usage.completion_tokens > 0


def test_latency_directive_and_slow_model_delay() -> None:
    started = time.monotonic()
    chat(target(None, "mock"), ask("[mock:latency_ms=150] hi"))
    assert time.monotonic() - started >= 0.14
    started = time.monotonic()
    chat(target(None, "mock", "mock-fast"), ask("hi"))
    assert time.monotonic() - started < 0.1


def test_embeddings_are_deterministic_unit_vectors() -> None:
    tgt = target(None, "mock", "mock-embed")
    first = embeddings(tgt, {"input": ["a", "b"], "dimensions": 16})
    again = embeddings(tgt, {"input": ["a", "b"], "dimensions": 16})
    vectors = [d["embedding"] for d in first.response["data"]]
    assert vectors == [d["embedding"] for d in again.response["data"]]
    assert vectors[0] != vectors[1]
    assert len(vectors[0]) == 16
    assert abs(sum(v * v for v in vectors[0]) - 1.0) < 1e-9
    encoded = embeddings(tgt, {"input": "a", "dimensions": 16, "encoding_format": "base64"})
    decoded = decode_base64_floats(encoded.response["data"][0]["embedding"])
    assert max(abs(x - y) for x, y in zip(decoded, vectors[0], strict=True)) < 1e-6
