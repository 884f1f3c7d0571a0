"""The fakes must speak each wire format well enough for the official SDKs."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import aiohttp
import anthropic
import openai
import orjson

from tests.fakes.control import FakeControl, Scenario
from tests.fakes.runner import FakeUpstream

ROOT = Path(__file__).resolve().parents[3]


def test_the_openai_sdk_reads_the_fake(openai_fake: FakeUpstream) -> None:
    client = openai.OpenAI(base_url=openai_fake.base_url, api_key="sk-x", max_retries=0)
    reply = client.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}])
    assert reply.choices[0].message.content == "Hello from the fake upstream."
    openai_fake.script(tool_calls=[{"name": "f", "arguments": {"a": 1}}], chunks=5)
    chunks = list(
        client.chat.completions.create(
            model="m",
            messages=[{"role": "user", "content": "hi"}],
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    assert chunks[-1].usage is not None and chunks[-1].usage.prompt_tokens == 17
    vectors = client.embeddings.create(model="e", input=["a"], dimensions=4)  # SDK sends base64
    assert len(vectors.data[0].embedding) == 4
    assert next(m.id for m in client.models.list()) == "gpt-4o"
    openai_fake.script(status=429, error_code="insufficient_quota")
    try:
        client.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}])
    except openai.RateLimitError as exc:
        assert exc.code == "insufficient_quota"
    else:
        raise AssertionError("expected RateLimitError")


def test_the_anthropic_sdk_reads_the_fake(anthropic_fake: FakeUpstream) -> None:
    client = anthropic.Anthropic(base_url=anthropic_fake.base_url, api_key="k", max_retries=0)
    message = client.messages.create(
        model="c", max_tokens=10, messages=[{"role": "user", "content": "hi"}]
    )
    assert message.content[0].text == "Hello from the fake upstream."  # type: ignore[union-attr]
    anthropic_fake.script(tool_calls=[{"name": "f", "arguments": {"a": 1}}])
    with client.messages.stream(
        model="c", max_tokens=10, messages=[{"role": "user", "content": "hi"}]
    ) as stream:
        final = stream.get_final_message()
    assert final.content[-1].input == {"a": 1}  # type: ignore[union-attr]
    assert final.usage.output_tokens > 0
    auth = anthropic_fake.requests[0].headers
    assert "authorization" in auth or "x-api-key" in auth
    anthropic_fake.script(status=529)
    try:
        client.messages.create(
            model="c", max_tokens=10, messages=[{"role": "user", "content": "x"}]
        )
    except anthropic.APIStatusError as exc:
        assert exc.status_code == 529
    else:
        raise AssertionError("expected an overloaded error")


def test_header_beats_model_beats_queue_beats_default() -> None:
    control = FakeControl()
    control.set_default(text="default")
    control.script(text="queued-1")
    control.script({"text": "queued-2"})
    header = {"x-fake-scenario": orjson.dumps({"status": 500}).decode()}
    assert control.resolve("fake-error-503", header).status == 500
    assert control.resolve("fake-error-503+slow-10", {}).status == 503
    assert control.resolve("fake-error-503+slow-10", {}).delay == 0.01
    assert control.resolve("fake-cut-2+nousage", {}).text == "default"  # built on the default
    assert control.resolve("m", {}).text == "queued-1"
    assert control.resolve("m", {}).text == "queued-2"
    assert control.resolve("m", {}).text == "default"
    control.reset()
    assert control.resolve("m", {}) == Scenario()


def test_unknown_scenario_fields_are_refused(openai_fake: FakeUpstream) -> None:
    async def main() -> int:
        async with aiohttp.ClientSession() as session:
            url = openai_fake.base_url + "/chat/completions"
            headers = {"x-fake-scenario": '{"nope": 1}'}
            async with session.post(url, json={"model": "m"}, headers=headers) as resp:
                return resp.status

    assert asyncio.run(main()) == 400


def test_it_can_be_scripted_over_http(openai_fake: FakeUpstream) -> None:
    async def main() -> tuple[int, list[dict[str, object]]]:
        async with aiohttp.ClientSession() as session:
            root = openai_fake.root_url
            await session.post(root + "/__fake__/script", json=[{"status": 418}])
            url = openai_fake.base_url + "/chat/completions"
            async with session.post(url, json={"model": "m", "messages": []}) as resp:
                status = resp.status
            async with session.get(root + "/__fake__/requests") as resp:
                return status, await resp.json()

    status, recorded = asyncio.run(main())
    assert status == 418
    assert recorded[0]["path"] == "/v1/chat/completions"
    assert recorded[0]["json"] == {"model": "m", "messages": []}


def test_the_runner_works_as_a_process() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.runner", "--kind", "openai", "--port", "0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:") and url.endswith("/v1")
        client = openai.OpenAI(base_url=url, api_key="k", max_retries=0)
        reply = client.chat.completions.create(model="m", messages=[])
        assert reply.choices[0].finish_reason == "stop"
    finally:
        process.terminate()
        assert process.wait(10) == 0
