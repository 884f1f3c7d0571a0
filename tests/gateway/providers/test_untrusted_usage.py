"""Usage an upstream reports is untrusted: garbage is never billed, the estimate is.

Every adapter, plain and streamed. Before providers/usage.py these counts were taken as
they came: a negative prompt count was billed as negative tokens, a string crashed the
adapter (a 500 or a lost stream record), a huge one was billed as is.
"""

from __future__ import annotations

from typing import Any

import pytest

from apps.gateway.providers.base import is_usage_chunk
from apps.gateway.providers.media import ANTHROPIC, GEMINI
from apps.gateway.providers.tokens import estimate_prompt_tokens, estimate_text_tokens
from apps.gateway.providers.usage import (
    MAX_REPORTED_TOKENS,
    BadUsage,
    checked,
    usage_from_openai,
)
from tests.fakes.control import DEFAULT_TEXT
from tests.fakes.runner import FakeUpstream
from tests.gateway.providers.support import REQUEST, chat, embeddings, stream, target

GARBAGE = [-5, MAX_REPORTED_TOKENS + 1, 10**15, "12", 12.0, 1.5, None, True, [3]]
# The name of the prompt count in each provider's own usage object.
PROMPT_FIELD = {
    "openai": "prompt_tokens",
    "openai_compatible": "prompt_tokens",
    "anthropic": "input_tokens",
    "gemini": "promptTokenCount",
}
OUTPUT_FIELD = {
    "openai": "completion_tokens",
    "openai_compatible": "completion_tokens",
    "anthropic": "output_tokens",
    "gemini": "candidatesTokenCount",
}
FAMILIES = {"anthropic": (ANTHROPIC,), "gemini": (GEMINI,)}


def _fake(kind: str, fakes: dict[str, FakeUpstream]) -> FakeUpstream:
    return fakes["openai" if kind.startswith("openai") else kind]


@pytest.fixture
def fakes(
    openai_fake: FakeUpstream, anthropic_fake: FakeUpstream, gemini_fake: FakeUpstream
) -> dict[str, FakeUpstream]:
    return {"openai": openai_fake, "anthropic": anthropic_fake, "gemini": gemini_fake}


def _estimated_prompt(kind: str) -> int:
    return estimate_prompt_tokens(REQUEST, FAMILIES.get(kind, ("openai",)))


# Gemini leaves candidatesTokenCount out when it is zero, so a null one reads as "absent"
# (a valid 0), not as garbage: that one case is not a garbage case.
PLAIN_CASES = [
    pytest.param(kind, field, value, id=f"{field}-{kind}-{value!r}")
    for field in ("prompt", "output")
    for kind in ("openai", "openai_compatible", "anthropic", "gemini")
    for value in GARBAGE
    if not (kind == "gemini" and field == "output" and value is None)
]


@pytest.mark.parametrize(("kind", "field", "value"), PLAIN_CASES)
def test_a_plain_answer_with_garbage_usage_is_billed_from_the_estimate(
    kind: str, field: str, value: Any, fakes: dict[str, FakeUpstream]
) -> None:
    name = (PROMPT_FIELD if field == "prompt" else OUTPUT_FIELD)[kind]
    fake = _fake(kind, fakes)
    fake.script(usage_override={name: value})
    result = chat(target(fake, kind))
    usage = result.usage
    assert not usage.reported
    assert usage.rejected
    assert usage.prompt_tokens == _estimated_prompt(kind)
    assert usage.completion_tokens == estimate_text_tokens(DEFAULT_TEXT)
    # The client never sees the garbage either: the answer carries the gateway's count.
    assert result.response["usage"]["prompt_tokens"] == usage.prompt_tokens


@pytest.mark.parametrize("value", [-5, 10**15, "12", 1.5, None], ids=repr)
@pytest.mark.parametrize("kind", ["openai", "openai_compatible", "anthropic", "gemini"])
def test_a_stream_with_garbage_usage_is_billed_from_what_was_streamed(
    kind: str, value: Any, fakes: dict[str, FakeUpstream]
) -> None:
    fake = _fake(kind, fakes)
    fake.script(usage_override={PROMPT_FIELD[kind]: value})
    chunks, opened, error = stream(target(fake, kind))
    assert error is None
    usage = opened.usage
    assert not usage.reported and usage.rejected
    # Gemini's earlier fragments carried a believable prompt count (17): that one is kept.
    assert usage.prompt_tokens == (17 if kind == "gemini" else _estimated_prompt(kind))
    assert usage.completion_tokens == estimate_text_tokens(DEFAULT_TEXT)
    reported = [c["usage"] for c in chunks if is_usage_chunk(c)]
    assert reported and reported[-1]["prompt_tokens"] == usage.prompt_tokens


def test_a_believable_report_is_still_taken_as_is(fakes: dict[str, FakeUpstream]) -> None:
    for kind in ("openai", "anthropic", "gemini"):
        fake = _fake(kind, fakes)
        fake.script(prompt_tokens=40_000, cached_tokens=1_000)
        usage = chat(target(fake, kind)).usage
        assert (usage.prompt_tokens, usage.cached_tokens, usage.reported) == (40_000, 1_000, True)
        assert not usage.rejected


def test_cached_tokens_beyond_the_prompt_are_garbage(openai_fake: FakeUpstream) -> None:
    openai_fake.script(
        prompt_tokens=10, usage_override={"prompt_tokens_details": {"cached_tokens": 11}}
    )
    usage = chat(target(openai_fake, "openai")).usage
    assert usage.rejected and usage.prompt_tokens == estimate_prompt_tokens(REQUEST)


def test_garbage_embedding_usage_is_billed_from_the_estimate(openai_fake: FakeUpstream) -> None:
    openai_fake.script(usage_override={"prompt_tokens": -100})
    result = embeddings(target(openai_fake, "openai"), {"model": "e", "input": "abcdefgh"})
    assert result.usage.rejected and result.usage.prompt_tokens == 2
    assert result.response["usage"]["prompt_tokens"] == 2


def test_the_mock_reports_garbage_on_request_and_validates_it_like_any_upstream() -> None:
    request = {"model": "m", "messages": [{"role": "user", "content": "hi [mock:usage=garbage]"}]}
    result = chat(target(None, "mock"), request)
    assert result.usage.rejected and not result.usage.reported
    assert result.usage.prompt_tokens == estimate_prompt_tokens(request)
    assert result.response["usage"]["prompt_tokens"] == result.usage.prompt_tokens
    chunks, opened, _ = stream(target(None, "mock"), request)
    assert opened.usage.rejected
    assert [c["usage"]["prompt_tokens"] for c in chunks if is_usage_chunk(c)] == [
        opened.usage.prompt_tokens
    ]


def test_the_validator_names_the_bad_count() -> None:
    with pytest.raises(BadUsage, match="prompt_tokens"):
        usage_from_openai({"prompt_tokens": "9", "completion_tokens": 1})
    with pytest.raises(BadUsage, match="completion_tokens is missing"):
        usage_from_openai({"prompt_tokens": 9})
    assert checked(None, lambda: usage_from_openai({"prompt_tokens": 1, "completion_tokens": 2}))
