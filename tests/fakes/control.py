"""Scripting for the fake upstream servers.

Each fake server owns a `FakeControl`. For every request it picks a `Scenario`:

1. the `x-fake-scenario` request header, a JSON object of `Scenario` fields, if present;
2. else the model name, if it starts with `fake-`: directives joined by `+`, e.g.
   `fake-error-503`, `fake-quota`, `fake-slow-200+chunks-10`, `fake-cut-3+nousage`
   (see `MODEL_DIRECTIVES`);
3. else the next scenario in the FIFO queue filled by `control.script(...)`;
4. else the default scenario (`control.set_default(...)`).

Header and model directives apply on top of the default scenario and never consume the
queue. Examples:

    fake.script(status=429, retry_after="2")      # the next request gets a 429
    fake.script(Scenario(chunks=10, cut_after=3))  # then a stream cut after 3 chunks
    fake.set_default(text="Bonjour", usage=False)  # afterwards: no usage, ever

Each server also records what it received (`control.requests`, `RecordedRequest`), and
serves `/__fake__/{script,default,reset,requests}` so a fake running in another process
(`python -m tests.fakes.runner`) can be scripted over HTTP.
"""

from __future__ import annotations

import dataclasses
import hashlib
import struct
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import orjson

DEFAULT_TEXT = "Hello from the fake upstream."
HEADER = "x-fake-scenario"


@dataclass(frozen=True, slots=True)
class Scenario:
    status: int = 200  # >= 400: answer with the provider's error JSON
    error_code: str | None = None  # e.g. "insufficient_quota"; else derived from status
    error_message: str | None = None
    retry_after: str | None = None  # `Retry-After` header value (seconds or HTTP date)
    retry_after_ms: int | None = None  # `retry-after-ms` header value
    delay: float = 0.0  # seconds before the response headers
    chunk_delay: float = 0.0  # seconds before each streamed content chunk
    text: str = DEFAULT_TEXT
    chunks: int = 4  # content chunks the text is split into when streaming
    cut_after: int | None = None  # drop the connection after N content chunks, no terminator
    stream_error_after: int | None = None  # send a mid-stream error event after N chunks
    usage: bool = True  # False: never report usage
    tool_calls: tuple[dict[str, Any], ...] = ()  # ({"name": "f", "arguments": {...}}, ...)
    finish_reason: str | None = None  # OpenAI vocabulary; "length" → max_tokens / MAX_TOKENS
    prompt_tokens: int = 17
    completion_tokens: int | None = None  # None: ceil(len(text) / 4)
    cached_tokens: int = 0  # cache reads (part of prompt_tokens)
    cache_write_tokens: int = 0  # Anthropic cache writes (part of prompt_tokens)
    reasoning_tokens: int = 0  # part of completion_tokens
    dimensions: int = 8  # embedding size when the request sets none
    # Merged over the provider's own usage object (OpenAI `usage`, Anthropic `usage` in
    # the answer and in both stream events, Gemini `usageMetadata`): garbage counts.
    usage_override: dict[str, Any] | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any], base: Scenario | None = None) -> Scenario:
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - names
        if unknown:
            raise ValueError(f"unknown scenario fields: {sorted(unknown)}")
        if "tool_calls" in data:
            data = {**data, "tool_calls": tuple(data["tool_calls"] or ())}
        return dataclasses.replace(base or cls(), **data)

    def merged_usage(self, usage: dict[str, Any]) -> dict[str, Any]:
        return {**usage, **self.usage_override} if self.usage_override else usage

    def completion(self) -> int:
        if self.completion_tokens is not None:
            return self.completion_tokens
        extra = sum(len(orjson.dumps(call)) for call in self.tool_calls)
        return (len(self.text.encode()) + extra + 3) // 4


def _tools(_: str) -> dict[str, Any]:
    return {"tool_calls": ({"name": "get_weather", "arguments": {"city": "Paris"}},), "text": ""}


MODEL_DIRECTIVES: dict[str, Any] = {
    "error": lambda v: {"status": int(v)},  # fake-error-503
    "quota": lambda _: {"status": 429, "error_code": "insufficient_quota"},
    "ratelimit": lambda v: {"status": 429, "retry_after": v or "1"},  # fake-ratelimit-2
    "slow": lambda v: {"delay": int(v) / 1000},  # ms before headers
    "chunkdelay": lambda v: {"chunk_delay": int(v) / 1000},
    "chunks": lambda v: {"chunks": int(v)},
    "cut": lambda v: {"cut_after": int(v)},
    "streamerror": lambda v: {"stream_error_after": int(v or 0)},
    "nousage": lambda _: {"usage": False},
    "tools": _tools,
    "length": lambda _: {"finish_reason": "length"},
}


def scenario_fields_from_model(model: str) -> dict[str, Any] | None:
    if not model.startswith("fake-"):
        return None
    fields: dict[str, Any] = {}
    for directive in model[5:].split("+"):
        name, _, value = directive.partition("-")
        factory = MODEL_DIRECTIVES.get(name)
        if factory is None:
            raise ValueError(f"unknown fake model directive {name!r}")
        fields.update(factory(value))
    return fields


@dataclass(slots=True)
class RecordedRequest:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    json: Any = None


@dataclass
class FakeControl:
    default: Scenario = field(default_factory=Scenario)
    record: bool = True
    max_records: int = 10_000
    queue: deque[Scenario] = field(default_factory=deque)
    requests: deque[RecordedRequest] = field(init=False)

    def __post_init__(self) -> None:
        self.requests = deque(maxlen=self.max_records)

    def script(self, *scenarios: Scenario | dict[str, Any], **fields: Any) -> None:
        """Queue scenarios for the next requests, in order (deque appends are thread-safe)."""
        for scenario in scenarios:
            if isinstance(scenario, dict):
                scenario = Scenario.from_dict(scenario, self.default)
            self.queue.append(scenario)
        if fields:
            self.queue.append(Scenario.from_dict(fields, self.default))

    def set_default(self, scenario: Scenario | None = None, **fields: Any) -> None:
        self.default = Scenario.from_dict(fields, scenario or Scenario())

    def reset(self) -> None:
        self.queue.clear()
        self.requests.clear()
        self.default = Scenario()

    def resolve(self, model: str, headers: Any) -> Scenario:
        raw = headers.get(HEADER)
        if raw:
            return Scenario.from_dict(orjson.loads(raw), self.default)
        fields = scenario_fields_from_model(model) if model else None
        if fields is not None:
            return Scenario.from_dict(fields, self.default)
        try:
            return self.queue.popleft()
        except IndexError:
            return self.default

    def log(self, method: str, path: str, query: Any, headers: Any, body: Any) -> None:
        if self.record:
            self.requests.append(
                RecordedRequest(
                    method,
                    path,
                    dict(query),
                    {k.lower(): v for k, v in headers.items()},
                    body,
                )
            )


def split_text(text: str, parts: int) -> list[str]:
    if not text:
        return []
    parts = max(1, min(parts, len(text)))
    size, extra = divmod(len(text), parts)
    pieces, start = [], 0
    for n in range(parts):
        end = start + size + (1 if n < extra else 0)
        pieces.append(text[start:end])
        start = end
    return pieces


def fake_vector(text: str, dimensions: int) -> list[float]:
    """Deterministic small floats (exactly representable in float32) for a text."""
    raw = hashlib.shake_256(text.encode()).digest(dimensions)
    return [(b - 128) / 128 for b in struct.unpack(f"{dimensions}B", raw)]
