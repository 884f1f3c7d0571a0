"""POST /v1/chat/completions, non-streamed, through the official openai SDK."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import httpx
import openai

from tests.support.live import World, auth, user_message


def client(base_url: str, world: World) -> openai.OpenAI:
    return openai.OpenAI(base_url=base_url, api_key=world.secret, max_retries=0)


def test_it_answers_and_records_usage_with_the_cost_header(base_url: str, world: World) -> None:
    raw = client(base_url, world).chat.completions.with_raw_response.create(
        model=world.models["gpt"], messages=user_message()
    )
    completion = raw.parse()
    assert completion.choices[0].message.content == "Hello from the fake upstream."
    assert completion.model == world.models["gpt"]
    record = world.record_for(raw.headers["x-request-id"])
    assert record["status"] == "success"
    assert (record["prompt_tokens"], record["completion_tokens"]) == (17, 8)
    # (17 * 1.00 + 8 * 2.00) / 1M * 1.10 markup
    assert record["cost"] == Decimal("0.00003630")
    assert Decimal(raw.headers["x-cloudfreedom-cost"]) == record["cost"]
    assert record["api_key_prefix"] == world.key.prefix
    assert record["upstream_model"] == "gpt-4o"
    assert record["streamed"] is False
    assert "x-cloudfreedom-budget-remaining" in raw.headers


def test_it_passes_through_what_the_target_supports(base_url: str, world: World) -> None:
    tools = [
        {
            "type": "function",
            "function": {"name": "get_weather", "parameters": {"type": "object"}},
        }
    ]
    client(base_url, world).chat.completions.create(
        model=world.models["gpt"],
        messages=[
            {"role": "system", "content": "terse"},
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "look"},
                    {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw=="}},
                ],
            },
        ],
        tools=tools,
        tool_choice="auto",
        response_format={"type": "json_object"},
        stop=["END"],
        temperature=0.3,
        top_p=0.9,
        seed=7,
        n=2,
        user="u-1",
        max_tokens=50,
    )
    sent = world.fakes["openai"].requests[-1].json
    assert sent["model"] == "gpt-4o"
    assert sent["tools"] == tools
    assert sent["response_format"] == {"type": "json_object"}
    assert (sent["stop"], sent["temperature"], sent["top_p"], sent["seed"], sent["n"]) == (
        ["END"],
        0.3,
        0.9,
        7,
        2,
    )
    assert sent["user"] == "u-1"
    assert sent["messages"][1]["content"][1]["image_url"]["url"].startswith("data:image/png")
    # OpenAI wants max_completion_tokens; the reservation never raises the client's limit.
    assert sent["max_completion_tokens"] == 50
    assert "max_tokens" not in sent


def test_it_bounds_the_output_when_the_client_sets_no_limit(base_url: str, world: World) -> None:
    client(base_url, world).chat.completions.create(
        model=world.models["gpt"], messages=user_message()
    )
    sent = world.fakes["openai"].requests[-1].json
    assert 16 <= sent["max_completion_tokens"] <= 4096


def test_it_serves_the_async_client(base_url: str, world: World) -> None:
    async def run() -> str:
        async with openai.AsyncOpenAI(
            base_url=base_url, api_key=world.secret, max_retries=0
        ) as aclient:
            answers = await asyncio.gather(
                *[
                    aclient.chat.completions.create(
                        model=world.models["gpt"], messages=user_message(f"n{i}")
                    )
                    for i in range(5)
                ]
            )
        return answers[0].choices[0].message.content or ""

    assert asyncio.run(run()) == "Hello from the fake upstream."
    assert len(world.fakes["openai"].requests) == 5


def test_it_routes_to_anthropic_and_gemini_and_mock(base_url: str, world: World) -> None:
    c = client(base_url, world)
    for role in ("claude", "gemini", "mock"):
        answer = c.chat.completions.create(model=world.models[role], messages=user_message("hey"))
        assert answer.choices[0].message.content
        assert answer.usage is not None and answer.usage.completion_tokens > 0
    assert world.fakes["anthropic"].requests and world.fakes["gemini"].requests


def test_every_response_has_a_fresh_request_id(base_url: str, world: World) -> None:
    ids = set()
    for _ in range(3):
        r = httpx.post(
            base_url + "/chat/completions",
            json={"model": world.models["gpt"], "messages": user_message()},
            headers={**auth(world.secret), "x-request-id": "client-chosen"},
        )
        ids.add(r.headers["x-request-id"])
    assert len(ids) == 3 and "client-chosen" not in ids
