"""Bad input never becomes a 5xx: every field and nested value of a full request, replaced
in turn by values of the wrong type or size, gets a 4xx (or is served), on every route
and through every translator (the mock, the Anthropic and the Gemini adapters)."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.live import World, auth

GARBAGE: list[Any] = [None, -1, 2**70, "x", 1.5, True, [], {}, [None], {"type": 5}]

CHAT_TEMPLATE: dict[str, Any] = {
    "messages": [
        {"role": "system", "content": "Be terse."},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "Weather?"},
                {"type": "image_url", "image_url": {"url": "https://x/y.png", "detail": "low"}},
            ],
        },
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "sunny"},
    ],
    "tools": [
        {
            "type": "function",
            "function": {"name": "get_weather", "parameters": {"type": "object"}},
        }
    ],
    "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
    "max_tokens": 20,
    "n": 1,
    "temperature": 0.5,
    "stop": ["END"],
    "response_format": {"type": "json_object"},
    "user": "u1",
}

MESSAGES_TEMPLATE: dict[str, Any] = {
    "max_tokens": 20,
    "system": [{"type": "text", "text": "Be terse."}],
    "messages": [
        {"role": "user", "content": [{"type": "text", "text": "Weather?"}]},
        {
            "role": "assistant",
            "content": [{"type": "tool_use", "id": "t1", "name": "get_weather", "input": {}}],
        },
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "sunny"}],
        },
    ],
    "tools": [{"name": "get_weather", "input_schema": {"type": "object"}}],
    "tool_choice": {"type": "auto"},
    "stop_sequences": ["END"],
    "metadata": {"user_id": "u1"},
}

EMBEDDINGS_TEMPLATE: dict[str, Any] = {"input": ["a", "b"], "dimensions": 8}


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every key and index path inside a JSON value."""
    if isinstance(value, dict):
        items: Any = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return
    for key, child in items:
        yield (*prefix, key)
        yield from paths(child, (*prefix, key))


def mutated(template: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for path in paths(template):
        for garbage in GARBAGE:
            body = copy.deepcopy(template)
            node = body
            for key in path[:-1]:
                node = node[key]
            node[path[-1]] = garbage
            yield f"{'.'.join(map(str, path))}={garbage!r}", body


def _fire(url: str, headers: dict[str, str], model: str, template: dict[str, Any]) -> list[str]:
    failures = []
    with httpx.Client(headers=headers, timeout=30) as client:
        for label, body in mutated(template):
            r = client.post(url, json={"model": model, **body})
            if r.status_code >= 500:
                failures.append(f"{label} -> {r.status_code} {r.text[:120]}")
    return failures


@pytest.mark.parametrize("role", ["mock", "claude", "gemini"])
def test_no_chat_input_is_a_5xx(base_url: str, world: World, role: str) -> None:
    url = base_url + "/chat/completions"
    failures = _fire(url, auth(world.secret), world.models[role], CHAT_TEMPLATE)
    assert failures == [], "\n".join(failures)


@pytest.mark.parametrize("role", ["mock", "claude"])
def test_no_messages_input_is_a_5xx(base_url: str, world: World, role: str) -> None:
    headers = {"x-api-key": world.secret, "anthropic-version": "2023-06-01"}
    failures = _fire(base_url + "/messages", headers, world.models[role], MESSAGES_TEMPLATE)
    assert failures == [], "\n".join(failures)


def test_no_embeddings_input_is_a_5xx(base_url: str, world: World) -> None:
    url = base_url + "/embeddings"
    failures = _fire(url, auth(world.secret), world.models["embed"], EMBEDDINGS_TEMPLATE)
    assert failures == [], "\n".join(failures)
