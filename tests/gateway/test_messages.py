"""POST /v1/messages with the official anthropic SDK, routed to any provider."""

from __future__ import annotations

import anthropic
import httpx

from tests.support.live import World


def client(gateway_url: str, world: World) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=gateway_url, api_key=world.secret, max_retries=0)


def test_it_answers_in_anthropic_shape_from_an_openai_upstream(gateway, world: World) -> None:
    message = client(gateway.url, world).messages.create(
        model=world.models["gpt"],
        max_tokens=100,
        system="Be terse.",
        messages=[{"role": "user", "content": "Hi"}],
    )
    assert message.type == "message" and message.role == "assistant"
    assert message.content[0].text == "Hello from the fake upstream."
    assert message.stop_reason == "end_turn"
    assert message.usage.input_tokens == 17 and message.usage.output_tokens == 8
    sent = world.fakes["openai"].requests[-1].json
    assert sent["messages"][0] == {"role": "system", "content": "Be terse."}
    assert sent["max_completion_tokens"] == 100


def test_it_streams_with_anthropic_event_types(gateway, world: World) -> None:
    with client(gateway.url, world).messages.stream(
        model=world.models["claude"], max_tokens=64, messages=[{"role": "user", "content": "Hi"}]
    ) as stream:
        events = [event.type for event in stream]
        final = stream.get_final_message()
    assert events[0] == "message_start"
    assert "content_block_delta" in events and events[-1] == "message_stop"
    assert final.content[0].text == "Hello from the fake upstream."
    assert final.usage.output_tokens > 0
    records = world.usage_records()
    assert records[-1]["endpoint"] == "messages" and records[-1]["streamed"] is True


def test_it_accepts_x_api_key_and_both_versions(gateway, world: World) -> None:
    for version in ("2023-06-01", "2026-10-21"):
        r = httpx.post(
            gateway.url + "/v1/messages",
            json={
                "model": world.models["gpt"],
                "max_tokens": 20,
                "temperature": 0.5,
                "messages": [{"role": "user", "content": "Hi"}],
            },
            headers={"x-api-key": world.secret, "anthropic-version": version},
        )
        assert r.status_code == 200, r.text
        assert r.json()["type"] == "message"
        sent = world.fakes["openai"].requests[-1].json
        # 2026-10-21 refuses sampling parameters, so they are dropped for it.
        assert ("temperature" in sent) is (version == "2023-06-01")


def test_it_rejects_an_unknown_version(gateway, world: World) -> None:
    r = httpx.post(
        gateway.url + "/v1/messages",
        json={"model": world.models["gpt"], "max_tokens": 5, "messages": []},
        headers={"x-api-key": world.secret, "anthropic-version": "1999-01-01"},
    )
    assert r.status_code == 400 and r.json()["error"]["type"] == "invalid_request_error"


def test_async_client_streams_from_gemini(gateway, world: World) -> None:
    import asyncio

    async def run() -> str:
        c = anthropic.AsyncAnthropic(base_url=gateway.url, api_key=world.secret, max_retries=0)
        async with c.messages.stream(
            model=world.models["gemini"],
            max_tokens=64,
            messages=[{"role": "user", "content": "Hi"}],
        ) as stream:
            return await stream.get_final_text()

    assert asyncio.run(run()) == "Hello from the fake upstream."
