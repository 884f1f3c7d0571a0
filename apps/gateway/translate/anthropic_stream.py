"""Stream translation between Anthropic named SSE events and OpenAI chunks.

`AnthropicToOpenAIStream` serves the Anthropic adapter (upstream events → OpenAI chunks);
`OpenAIToAnthropicStream` serves the gateway's own `/v1/messages` endpoint (OpenAI chunks
from any provider → Anthropic events for Anthropic clients). Both are pure and stateful:
feed them in order, one instance per stream.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import orjson

from apps.gateway.translate.anthropic_messages import (
    anthropic_stop_reason,
    anthropic_usage_to_openai,
    openai_finish_reason,
    openai_usage_to_anthropic,
)
from apps.gateway.translate.common import chunk as make_chunk
from apps.gateway.translate.common import usage_chunk

AnthropicEvent = tuple[str, dict[str, Any]]


def _bytes(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode())


class AnthropicToOpenAIStream:
    """Anthropic stream events → OpenAI `chat.completion.chunk` dicts.

    Attributes after feeding: `done` (message_stop seen), `error` (an `event: error`
    payload), `usage` (raw Anthropic usage so far), `usage_final` (a message_delta carried
    usage), `output_bytes` (streamed text, for counting when usage never arrives).
    """

    def __init__(self, model: str = "", created: int | None = None) -> None:
        self.id = "chatcmpl-" + uuid.uuid4().hex
        self.model = model
        self.created = created if created is not None else int(time.time())
        self.done = False
        self.error: dict[str, Any] | None = None
        self.usage: dict[str, Any] | None = None
        self.usage_final = False
        self.finish_reason: str | None = None
        self.output_bytes = 0
        self._started = False
        self._tool_index: dict[int, int] = {}  # Anthropic block index → OpenAI tool index

    @property
    def openai_usage(self) -> dict[str, Any] | None:
        return anthropic_usage_to_openai(self.usage) if self.usage is not None else None

    def _chunk(self, delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return make_chunk(self.id, self.created, self.model, delta, finish)

    def _start(self, out: list[dict[str, Any]]) -> None:
        if not self._started:
            self._started = True
            out.append(self._chunk({"role": "assistant", "content": ""}))

    def feed(self, event: str, data: dict[str, Any]) -> list[dict[str, Any]]:
        kind = data.get("type") or event
        out: list[dict[str, Any]] = []
        if kind == "content_block_delta":
            self._start(out)
            delta = data.get("delta") or {}
            dtype = delta.get("type")
            if dtype == "text_delta":
                text = delta.get("text") or ""
                if text:
                    self.output_bytes += _bytes(text)
                    out.append(self._chunk({"content": text}))
            elif dtype == "input_json_delta":
                fragment = delta.get("partial_json") or ""
                index = self._tool_index.get(data.get("index", -1))
                if fragment and index is not None:
                    self.output_bytes += _bytes(fragment)
                    call = {"index": index, "function": {"arguments": fragment}}
                    out.append(self._chunk({"tool_calls": [call]}))
            elif dtype == "thinking_delta":
                text = delta.get("thinking") or ""
                if text:
                    self.output_bytes += _bytes(text)
                    out.append(self._chunk({"reasoning_content": text}))
        elif kind == "message_start":
            message = data.get("message") or {}
            if message.get("id"):
                self.id = message["id"]
            self.model = self.model or message.get("model") or ""
            if isinstance(message.get("usage"), dict):
                self.usage = dict(message["usage"])
            self._start(out)
        elif kind == "content_block_start":
            self._start(out)
            block = data.get("content_block") or {}
            btype = block.get("type")
            if btype == "tool_use":
                index = len(self._tool_index)
                self._tool_index[data.get("index", index)] = index
                name = block.get("name") or ""
                self.output_bytes += _bytes(name)
                call = {
                    "index": index,
                    "id": block.get("id"),
                    "type": "function",
                    "function": {"name": name, "arguments": ""},
                }
                out.append(self._chunk({"tool_calls": [call]}))
            elif btype == "text" and block.get("text"):
                self.output_bytes += _bytes(block["text"])
                out.append(self._chunk({"content": block["text"]}))
        elif kind == "message_delta":
            self._start(out)
            usage = data.get("usage")
            if isinstance(usage, dict) and usage:
                merged = self.usage if self.usage is not None else {}
                merged.update({k: v for k, v in usage.items() if v is not None})
                self.usage = merged
                self.usage_final = True
            stop_reason = (data.get("delta") or {}).get("stop_reason")
            if stop_reason and self.finish_reason is None:
                self.finish_reason = openai_finish_reason(stop_reason)
                out.append(self._chunk({}, self.finish_reason))
        elif kind == "message_stop":
            self.done = True
            if self.usage_final:
                out.append(usage_chunk(self.id, self.created, self.model, self.openai_usage or {}))
        elif kind == "error":
            self.error = data.get("error") or {"message": "unknown stream error"}
        # ping, content_block_stop and unknown future events need no output.
        return out


class OpenAIToAnthropicStream:
    """OpenAI chunks → Anthropic `(event, data)` pairs, for Anthropic-speaking clients.

    Call `feed(chunk)` per upstream chunk and `finish(usage)` once the upstream ended;
    `finish` closes the open block and emits `message_delta` + `message_stop`. Only
    choice 0 is translated (Anthropic has no `n`). Reasoning text is not forwarded:
    Anthropic thinking blocks need a provider signature.
    """

    def __init__(self, model: str, *, message_id: str | None = None, input_tokens: int = 0) -> None:
        self.model = model
        self.id = message_id or "msg_" + uuid.uuid4().hex
        self.input_tokens = input_tokens
        self.finish_reason: str | None = None
        self.usage: dict[str, Any] | None = None
        self._started = False
        self._finished = False
        self._block: int | None = None  # index of the open content block
        self._block_kind: str | None = None
        self._next_block = 0
        self._tool_blocks: dict[int, int] = {}  # OpenAI tool index → Anthropic block index

    def _start(self, out: list[AnthropicEvent]) -> None:
        if self._started:
            return
        self._started = True
        message = {
            "id": self.id,
            "type": "message",
            "role": "assistant",
            "model": self.model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {
                "input_tokens": self.input_tokens,
                "output_tokens": 0,
                "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": 0,
            },
        }
        out.append(("message_start", {"type": "message_start", "message": message}))
        out.append(("ping", {"type": "ping"}))

    def _close_block(self, out: list[AnthropicEvent]) -> None:
        if self._block is not None:
            out.append(("content_block_stop", {"type": "content_block_stop", "index": self._block}))
            self._block = None
            self._block_kind = None

    def _open_block(self, out: list[AnthropicEvent], block: dict[str, Any]) -> int:
        self._close_block(out)
        index = self._next_block
        self._next_block += 1
        self._block = index
        self._block_kind = block["type"]
        out.append(
            (
                "content_block_start",
                {"type": "content_block_start", "index": index, "content_block": block},
            )
        )
        return index

    def feed(self, chunk: dict[str, Any]) -> list[AnthropicEvent]:
        out: list[AnthropicEvent] = []
        self._start(out)
        if chunk.get("usage"):
            self.usage = chunk["usage"]
        for choice in chunk.get("choices") or ():
            if choice.get("index", 0) != 0:
                continue
            delta = choice.get("delta") or {}
            text = delta.get("content")
            if text:
                if self._block_kind != "text":
                    self._open_block(out, {"type": "text", "text": ""})
                out.append(
                    (
                        "content_block_delta",
                        {
                            "type": "content_block_delta",
                            "index": self._block,
                            "delta": {"type": "text_delta", "text": text},
                        },
                    )
                )
            for call in delta.get("tool_calls") or ():
                tool_index = call.get("index", 0)
                function = call.get("function") or {}
                block = self._tool_blocks.get(tool_index)
                if block is None:
                    block = self._open_block(
                        out,
                        {
                            "type": "tool_use",
                            "id": call.get("id") or "toolu_" + uuid.uuid4().hex[:24],
                            "name": function.get("name") or "",
                            "input": {},
                        },
                    )
                    self._tool_blocks[tool_index] = block
                arguments = function.get("arguments")
                if arguments:
                    out.append(
                        (
                            "content_block_delta",
                            {
                                "type": "content_block_delta",
                                "index": block,
                                "delta": {"type": "input_json_delta", "partial_json": arguments},
                            },
                        )
                    )
            if choice.get("finish_reason"):
                self.finish_reason = choice["finish_reason"]
        return out

    def finish(self, usage: dict[str, Any] | None = None) -> list[AnthropicEvent]:
        """Close the message. `usage` (OpenAI shape) overrides what the chunks carried."""
        out: list[AnthropicEvent] = []
        if self._finished:
            return out
        self._finished = True
        self._start(out)
        self._close_block(out)
        converted = openai_usage_to_anthropic(usage or self.usage)
        if not (usage or self.usage):
            converted["input_tokens"] = self.input_tokens
        out.append(
            (
                "message_delta",
                {
                    "type": "message_delta",
                    "delta": {
                        "stop_reason": anthropic_stop_reason(self.finish_reason) or "end_turn",
                        "stop_sequence": None,
                    },
                    "usage": converted,
                },
            )
        )
        out.append(("message_stop", {"type": "message_stop"}))
        return out


def format_sse(event: str, data: dict[str, Any]) -> bytes:
    """Frame one Anthropic event for the wire (the SDK skips events without `event:`)."""
    return b"event: " + event.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"


def error_event(message: str, error_type: str = "api_error") -> AnthropicEvent:
    return ("error", {"type": "error", "error": {"type": error_type, "message": message}})
