"""Request input on /v1: bad input is a 400 (never a 5xx), only known fields go upstream,
and fields that change what a provider charges are refused naming the field.

Each case is refused before any upstream call and without a usage record. On the code
before this change a huge `max_tokens` overflowed the reservation's integer parameter and
came back as a 503, malformed `tool_calls` crashed the token count (a 500), and unknown or
charge-changing fields were forwarded to the upstream as they were.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.support.live import World, auth, user_message

Body = Callable[[World], dict[str, Any]]


def chat(model: str = "gpt", **extra: Any) -> Body:
    return lambda w: {"model": w.models[model], "messages": user_message(), **extra}


def with_messages(*messages: Any, **extra: Any) -> Body:
    return lambda w: {"model": w.models["gpt"], "messages": list(messages), **extra}


def assistant_calls(calls: Any) -> Body:
    return with_messages(
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": None, "tool_calls": calls},
        {"role": "tool", "tool_call_id": "call_1", "content": "sunny"},
    )


GOOD_CALL = {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
HUGE = 2**40

# name: (body, param the 400 names)
CHAT_CASES: dict[str, tuple[Body, str]] = {
    "huge max_tokens": (chat(max_tokens=HUGE), "max_tokens"),
    "huge max_completion_tokens": (chat(max_completion_tokens=HUGE), "max_completion_tokens"),
    "int64 max_tokens": (chat(max_tokens=2**63 - 1), "max_tokens"),
    "zero max_tokens": (chat(max_tokens=0), "max_tokens"),
    "huge n": (chat(n=1_000_000), "n"),
    "bool n": (chat(n=True), "n"),
    "huge seed": (chat(seed=2**64 - 1), "seed"),
    "top_logprobs": (chat(top_logprobs=10_000), "top_logprobs"),
    "temperature range": (chat(temperature=1e300), "temperature"),
    "too many stops": (chat(stop=["a", "b", "c", "d", "e"]), "stop"),
    "tool_calls not a list": (assistant_calls({"id": "x"}), "messages[1].tool_calls"),
    "tool_call not an object": (assistant_calls(["call"]), "messages[1].tool_calls[0]"),
    "tool_call without id": (
        assistant_calls([{"type": "function", "function": {"name": "f", "arguments": "{}"}}]),
        "messages[1].tool_calls[0].id",
    ),
    "tool_call function not an object": (
        assistant_calls([{**GOOD_CALL, "function": "f()"}]),
        "messages[1].tool_calls[0].function",
    ),
    "tool_call without name": (
        assistant_calls([{**GOOD_CALL, "function": {"arguments": "{}"}}]),
        "messages[1].tool_calls[0].function.name",
    ),
    "tool_call arguments an object": (
        assistant_calls([{**GOOD_CALL, "function": {"name": "f", "arguments": {"a": 1}}}]),
        "messages[1].tool_calls[0].function.arguments",
    ),
    "tool_calls on a user turn": (
        with_messages({"role": "user", "content": "hi", "tool_calls": [GOOD_CALL]}),
        "messages[0].tool_calls",
    ),
    "part not an object": (
        with_messages({"role": "user", "content": ["hi"]}),
        "messages[0].content[0]",
    ),
    "image without url": (
        with_messages({"role": "user", "content": [{"type": "image_url", "image_url": {}}]}),
        "messages[0].content[0].image_url",
    ),
    "tools entry not an object": (chat(tools=["get_weather"]), "tools[0]"),
    "tool without function": (chat(tools=[{"type": "function"}]), "tools[0].function"),
    "file by id": (
        with_messages(
            {"role": "user", "content": [{"type": "file", "file": {"file_id": "file-abc"}}]}
        ),
        "messages[0].content[0].file.file_id",
    ),
    # Only known fields: an unknown one is refused (as OpenAI itself does).
    "unknown field": (chat(frobnicate=True), "frobnicate"),
    # Fields that change what the provider charges and that no price covers.
    "priority tier": (chat(service_tier="priority"), "service_tier"),
    "flex tier": (chat(service_tier="flex"), "service_tier"),
    "audio output": (chat(modalities=["text", "audio"]), "modalities"),
    "audio config": (chat(audio={"voice": "alloy", "format": "wav"}), "audio"),
    "web search": (chat(web_search_options={}), "web_search_options"),
    "predicted output": (chat(prediction={"type": "content", "content": "x"}), "prediction"),
}


@pytest.mark.parametrize("name", list(CHAT_CASES))
def test_bad_chat_input_is_a_400_naming_the_field(base_url: str, world: World, name: str) -> None:
    make_body, param = CHAT_CASES[name]
    before = len(world.usage_records())
    r = httpx.post(
        base_url + "/chat/completions", json=make_body(world), headers=auth(world.secret)
    )
    assert r.status_code == 400, r.text
    error = r.json()["error"]
    assert error["param"] == param
    assert error["type"] == "invalid_request_error"
    assert world.fakes["openai"].requests == []
    assert len(world.usage_records()) == before


def test_refusals_of_unpriced_fields_point_to_the_field_rules(base_url: str, world: World) -> None:
    r = httpx.post(
        base_url + "/chat/completions",
        json=chat(frobnicate=1)(world),
        headers=auth(world.secret),
    )
    assert "frobnicate" in r.json()["error"]["message"]
    assert "docs/gateway-fields.md" in r.json()["error"]["message"]
    r = httpx.post(
        base_url + "/chat/completions",
        json=chat(service_tier="priority")(world),
        headers=auth(world.secret),
    )
    assert r.json()["error"]["code"] == "unsupported_parameter"


def test_known_fields_still_pass_and_standard_tiers_are_served(base_url: str, world: World) -> None:
    body = chat(
        service_tier="default",
        modalities=["text"],
        max_tokens=1_000_000,
        n=1,
        seed=2**63 - 1,
        metadata={"a": "b"},
        store=False,
    )(world)
    body["messages"] = [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": None, "tool_calls": [GOOD_CALL]},
        {"role": "tool", "tool_call_id": "call_1", "content": "sunny"},
    ]
    r = httpx.post(base_url + "/chat/completions", json=body, headers=auth(world.secret))
    assert r.status_code == 200, r.text
    sent = world.fakes["openai"].requests[0].json
    assert sent["service_tier"] == "default"
    assert sent["seed"] == 2**63 - 1


def anthropic_headers(world: World) -> dict[str, str]:
    return {"x-api-key": world.secret, "anthropic-version": "2023-06-01"}


def messages_body(world: World, **extra: Any) -> dict[str, Any]:
    return {
        "model": world.models["claude"],
        "max_tokens": 50,
        "messages": user_message(),
        **extra,
    }


MESSAGES_CASES: dict[str, dict[str, Any]] = {
    "huge max_tokens": {"max_tokens": HUGE},
    "block not an object": {"messages": [{"role": "user", "content": ["hi"]}]},
    "tool_use without id": {
        "messages": [
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": [{"type": "tool_use", "name": "f", "input": {}}]},
        ]
    },
    "tool_use input a string": {
        "messages": [
            {"role": "user", "content": "hi"},
            {
                "role": "assistant",
                "content": [{"type": "tool_use", "id": "t1", "name": "f", "input": "{}"}],
            },
        ]
    },
    "tools not objects": {"tools": ["f"]},
    "server tool": {"tools": [{"type": "web_search_20250305", "name": "web_search"}]},
    "mcp servers": {"mcp_servers": [{"type": "url", "url": "https://x", "name": "x"}]},
    "priority tier": {"service_tier": "auto"},
    "temperature type": {"temperature": "hot"},
    "tool_choice type": {"tool_choice": "auto"},
    "file by id": {
        "messages": [
            {
                "role": "user",
                "content": [{"type": "document", "source": {"type": "file", "file_id": "f"}}],
            }
        ]
    },
}


@pytest.mark.parametrize("name", list(MESSAGES_CASES))
def test_bad_messages_input_is_a_400_in_anthropic_shape(
    base_url: str, world: World, name: str
) -> None:
    r = httpx.post(
        base_url + "/messages",
        json=messages_body(world, **MESSAGES_CASES[name]),
        headers=anthropic_headers(world),
    )
    assert r.status_code == 400, r.text
    body = r.json()
    assert body["type"] == "error" and body["error"]["type"] == "invalid_request_error"
    assert world.fakes["anthropic"].requests == []


def test_messages_drops_unknown_fields_instead_of_forwarding_them(
    base_url: str, world: World
) -> None:
    r = httpx.post(
        base_url + "/messages",
        json=messages_body(world, context_management={"edits": []}, frobnicate=1),
        headers=anthropic_headers(world),
    )
    assert r.status_code == 200, r.text
    sent = world.fakes["anthropic"].requests[0].json
    assert "frobnicate" not in sent and "context_management" not in sent


EMBEDDING_CASES: dict[str, tuple[dict[str, Any], str]] = {
    "huge dimensions": ({"dimensions": 10**9}, "dimensions"),
    "negative token id": ({"input": [[1, -2]]}, "input"),
    "huge token id": ({"input": [2**40]}, "input"),
    "too many inputs": ({"input": ["a"] * 3000}, "input"),
    "unknown field": ({"task_type": "query"}, "task_type"),
}


@pytest.mark.parametrize("name", list(EMBEDDING_CASES))
def test_bad_embeddings_input_is_a_400(base_url: str, world: World, name: str) -> None:
    extra, param = EMBEDDING_CASES[name]
    body = {"model": world.models["embed"], "input": "hello", **extra}
    r = httpx.post(base_url + "/embeddings", json=body, headers=auth(world.secret))
    assert r.status_code == 400, r.text
    assert r.json()["error"]["param"] == param
    assert world.fakes["openai"].requests == []
