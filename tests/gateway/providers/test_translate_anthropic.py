from __future__ import annotations

from typing import Any

import orjson

from apps.gateway.translate.anthropic_messages import (
    anthropic_to_openai_request,
    anthropic_to_openai_response,
    openai_to_anthropic_request,
    openai_to_anthropic_response,
)
from apps.gateway.translate.anthropic_stream import (
    AnthropicToOpenAIStream,
    OpenAIToAnthropicStream,
    format_sse,
)
from apps.gateway.translate.common import TranslationError
from tests.gateway.providers.support import text_of, tool_calls_of

PNG = "data:image/png;base64,iVBORw=="
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Get weather",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        },
    }
]
CONVERSATION: dict[str, Any] = {
    "model": "claude",
    "messages": [
        {"role": "system", "content": "You are terse."},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "Weather?"},
                {"type": "image_url", "image_url": {"url": PNG}},
                {"type": "image_url", "image_url": {"url": "https://x.test/a.jpg"}},
            ],
        },
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "toolu_01",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
                },
                {
                    "id": "toolu_02",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city":"Rome"}'},
                },
            ],
        },
        {"role": "tool", "tool_call_id": "toolu_01", "content": "21C"},
        {"role": "tool", "tool_call_id": "toolu_02", "content": "25C"},
        {"role": "developer", "content": "Use Celsius."},
    ],
    "tools": TOOLS,
    "tool_choice": "required",
    "parallel_tool_calls": False,
    "max_completion_tokens": 300,
    "stop": ["END"],
    "temperature": 0.3,
    "top_p": 0.9,
    "user": "u-1",
}


def test_openai_request_becomes_a_messages_body() -> None:
    body = openai_to_anthropic_request(CONVERSATION)
    assert body["system"] == "You are terse.\n\nUse Celsius."
    assert body["max_tokens"] == 300
    assert body["stop_sequences"] == ["END"]
    assert body["temperature"] == 0.3
    assert "top_p" not in body  # newer models refuse both
    assert body["metadata"] == {"user_id": "u-1"}
    assert body["tool_choice"] == {"type": "any", "disable_parallel_tool_use": True}
    assert body["tools"][0]["input_schema"]["properties"]["city"] == {"type": "string"}
    user, assistant, results = body["messages"]
    assert user["content"][1] == {
        "type": "image",
        "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw=="},
    }
    assert user["content"][2]["source"] == {"type": "url", "url": "https://x.test/a.jpg"}
    assert [b["input"] for b in assistant["content"]] == [{"city": "Paris"}, {"city": "Rome"}]
    assert results == {
        "role": "user",
        "content": [
            {"type": "tool_result", "tool_use_id": "toolu_01", "content": "21C"},
            {"type": "tool_result", "tool_use_id": "toolu_02", "content": "25C"},
        ],
    }


def test_sampling_is_dropped_for_newer_api_versions() -> None:
    body = openai_to_anthropic_request(CONVERSATION, anthropic_version="2026-10-21")
    assert "temperature" not in body and "top_p" not in body
    only_top_p = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "top_p": 0.5}
    assert openai_to_anthropic_request(only_top_p)["top_p"] == 0.5


def test_json_formats_are_mapped() -> None:
    base = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
    schema = {"type": "object"}
    fmt = {"type": "json_schema", "json_schema": {"name": "x", "schema": schema}}
    body = openai_to_anthropic_request({**base, "response_format": fmt})
    assert body["output_config"] == {"format": {"type": "json_schema", "schema": schema}}
    body = openai_to_anthropic_request({**base, "response_format": {"type": "json_object"}})
    assert "JSON" in body["system"]


def test_unsupported_parts_raise_translation_error() -> None:
    part = {"type": "input_audio", "input_audio": {}}
    try:
        openai_to_anthropic_request(
            {"model": "m", "messages": [{"role": "user", "content": [part]}]}
        )
    except TranslationError:
        pass
    else:
        raise AssertionError("expected TranslationError")


def test_requests_round_trip_through_anthropic() -> None:
    back = anthropic_to_openai_request(openai_to_anthropic_request(CONVERSATION))
    assert back["messages"][0] == {"role": "system", "content": "You are terse.\n\nUse Celsius."}
    user = back["messages"][1]
    assert user["content"][1] == {"type": "image_url", "image_url": {"url": PNG}}
    assistant = back["messages"][2]
    assert assistant["tool_calls"] == CONVERSATION["messages"][2]["tool_calls"]
    assert back["messages"][3:] == CONVERSATION["messages"][3:5]
    assert back["tools"] == TOOLS
    assert back["tool_choice"] == "required"
    assert back["parallel_tool_calls"] is False
    assert back["max_completion_tokens"] == 300
    assert back["stop"] == ["END"]
    assert back["user"] == "u-1"


def test_anthropic_request_with_string_content_and_stream() -> None:
    body = {
        "model": "claude",
        "max_tokens": 10,
        "system": [{"type": "text", "text": "S", "cache_control": {"type": "ephemeral"}}],
        "messages": [{"role": "user", "content": "hi"}],
        "stream": True,
    }
    request = anthropic_to_openai_request(body)
    assert request["messages"][0]["content"][0]["cache_control"] == {"type": "ephemeral"}
    assert request["messages"][1] == {"role": "user", "content": "hi"}
    assert request["stream_options"] == {"include_usage": True}
    again = openai_to_anthropic_request(request)
    assert again["system"] == body["system"]


ANTHROPIC_RESPONSE = {
    "id": "msg_01",
    "type": "message",
    "role": "assistant",
    "content": [
        {"type": "thinking", "thinking": "hmm", "signature": "sig"},
        {"type": "text", "text": "Checking."},
        {"type": "tool_use", "id": "toolu_9", "name": "get_weather", "input": {"city": "Paris"}},
    ],
    "model": "claude-x",
    "stop_reason": "tool_use",
    "stop_sequence": None,
    "usage": {
        "input_tokens": 10,
        "output_tokens": 6,
        "cache_creation_input_tokens": 5,
        "cache_read_input_tokens": 3,
    },
}


def test_anthropic_response_becomes_openai_and_back() -> None:
    response = anthropic_to_openai_response(ANTHROPIC_RESPONSE)
    choice = response["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"]["content"] == "Checking."
    assert choice["message"]["reasoning_content"] == "hmm"
    assert choice["message"]["tool_calls"][0]["function"]["arguments"] == '{"city":"Paris"}'
    assert response["usage"]["prompt_tokens"] == 18
    assert response["usage"]["prompt_tokens_details"] == {
        "cached_tokens": 3,
        "cache_write_tokens": 5,
    }
    back = openai_to_anthropic_response(response)
    assert back["usage"] == ANTHROPIC_RESPONSE["usage"]
    assert back["content"] == ANTHROPIC_RESPONSE["content"][1:]
    assert back["stop_reason"] == "tool_use"
    assert back["id"] == "msg_01"


def test_finish_reasons_map_both_ways() -> None:
    for stop, finish in (
        ("end_turn", "stop"),
        ("max_tokens", "length"),
        ("refusal", "content_filter"),
        ("pause_turn", "stop"),
    ):
        converted = anthropic_to_openai_response({**ANTHROPIC_RESPONSE, "stop_reason": stop})
        assert converted["choices"][0]["finish_reason"] == finish
    response = {
        "id": "chatcmpl-1",
        "choices": [{"message": {"content": "x"}, "finish_reason": "length"}],
    }
    assert openai_to_anthropic_response(response)["stop_reason"] == "max_tokens"


def anthropic_events() -> list[tuple[str, dict[str, Any]]]:
    return [
        (
            "message_start",
            {
                "type": "message_start",
                "message": {
                    "id": "msg_1",
                    "model": "c",
                    "usage": {"input_tokens": 377, "output_tokens": 1},
                },
            },
        ),
        ("ping", {"type": "ping"}),
        (
            "content_block_start",
            {
                "type": "content_block_start",
                "index": 0,
                "content_block": {"type": "text", "text": ""},
            },
        ),
        (
            "content_block_delta",
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "text_delta", "text": "Let me "},
            },
        ),
        (
            "content_block_delta",
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "text_delta", "text": "check."},
            },
        ),
        ("content_block_stop", {"type": "content_block_stop", "index": 0}),
        (
            "content_block_start",
            {
                "type": "content_block_start",
                "index": 1,
                "content_block": {
                    "type": "tool_use",
                    "id": "toolu_1",
                    "name": "get_weather",
                    "input": {},
                },
            },
        ),
        (
            "content_block_delta",
            {
                "type": "content_block_delta",
                "index": 1,
                "delta": {"type": "input_json_delta", "partial_json": ""},
            },
        ),
        (
            "content_block_delta",
            {
                "type": "content_block_delta",
                "index": 1,
                "delta": {"type": "input_json_delta", "partial_json": '{"locati'},
            },
        ),
        (
            "content_block_delta",
            {
                "type": "content_block_delta",
                "index": 1,
                "delta": {"type": "input_json_delta", "partial_json": 'on": "Paris"}'},
            },
        ),
        ("content_block_stop", {"type": "content_block_stop", "index": 1}),
        ("some_future_event", {"type": "some_future_event"}),
        (
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": "tool_use"},
                "usage": {"output_tokens": 65},
            },
        ),
        ("message_stop", {"type": "message_stop"}),
    ]


def test_anthropic_stream_becomes_openai_chunks() -> None:
    translator = AnthropicToOpenAIStream(model="claude")
    chunks = [c for name, data in anthropic_events() for c in translator.feed(name, data)]
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert text_of(chunks) == "Let me check."
    assert tool_calls_of(chunks) == {
        0: {"id": "toolu_1", "name": "get_weather", "arguments": '{"location": "Paris"}'}
    }
    assert chunks[-2]["choices"][0]["finish_reason"] == "tool_calls"
    assert chunks[-1]["choices"] == []
    assert chunks[-1]["usage"]["prompt_tokens"] == 377
    assert chunks[-1]["usage"]["completion_tokens"] == 65
    assert translator.done and translator.usage_final
    assert {c["id"] for c in chunks} == {"msg_1"}


def test_openai_chunks_become_anthropic_events_and_back() -> None:
    upstream = AnthropicToOpenAIStream(model="claude")
    chunks = [c for name, data in anthropic_events() for c in upstream.feed(name, data)]
    downstream = OpenAIToAnthropicStream("claude", input_tokens=5)
    events = [e for c in chunks for e in downstream.feed(c)] + downstream.finish()
    names = [name for name, _ in events]
    assert names[:2] == ["message_start", "ping"]
    assert names[-2:] == ["message_delta", "message_stop"]
    assert names.count("content_block_start") == names.count("content_block_stop") == 2
    delta = events[-2][1]
    assert delta["delta"]["stop_reason"] == "tool_use"
    assert delta["usage"]["input_tokens"] == 377 and delta["usage"]["output_tokens"] == 65
    again = AnthropicToOpenAIStream(model="claude")
    replayed = [c for name, data in events for c in again.feed(name, data)]
    assert text_of(replayed) == "Let me check."
    assert tool_calls_of(replayed)[0]["arguments"] == '{"location": "Paris"}'


def test_parallel_openai_tool_calls_get_their_own_blocks() -> None:
    def call_chunk(index: int, **call: Any) -> dict[str, Any]:
        return {"choices": [{"index": 0, "delta": {"tool_calls": [{"index": index, **call}]}}]}

    stream = OpenAIToAnthropicStream("m")
    events = []
    for c in (
        call_chunk(0, id="call_a", function={"name": "a", "arguments": ""}),
        call_chunk(0, function={"arguments": '{"x":1}'}),
        call_chunk(1, id="call_b", function={"name": "b", "arguments": '{"y":2}'}),
        {"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]},
    ):
        events += stream.feed(c)
    events += stream.finish({"prompt_tokens": 9, "completion_tokens": 4})
    starts = [d for n, d in events if n == "content_block_start"]
    assert [(s["index"], s["content_block"]["id"]) for s in starts] == [
        (0, "call_a"),
        (1, "call_b"),
    ]
    deltas = [d for n, d in events if n == "content_block_delta"]
    assert [(d["index"], d["delta"]["partial_json"]) for d in deltas] == [
        (0, '{"x":1}'),
        (1, '{"y":2}'),
    ]
    assert events[-2][1]["usage"]["input_tokens"] == 9


def test_format_sse_always_names_the_event() -> None:
    frame = format_sse("ping", {"type": "ping"})
    assert frame == b'event: ping\ndata: {"type":"ping"}\n\n'
    assert orjson.loads(frame.split(b"data: ")[1]) == {"type": "ping"}
