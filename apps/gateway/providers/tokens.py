"""A cheap token estimator for when the upstream reports no usage.

Roughly 4 bytes of UTF-8 per token, rounded up, plus 4 tokens of framing per message.
It is deliberately simple and deterministic: it bills a cut stream fairly without
shipping a tokenizer, and the same input always yields the same count.
"""

from __future__ import annotations

from typing import Any

import orjson

PER_MESSAGE_TOKENS = 4


def text_bytes(text: str) -> int:
    # isascii() is a C-speed scan and lets us skip building an encoded copy most of the time.
    return len(text) if text.isascii() else len(text.encode("utf-8"))


def tokens_for_bytes(n: int) -> int:
    return (n + 3) // 4


def estimate_text_tokens(text: str | None) -> int:
    if not text:
        return 0
    return tokens_for_bytes(text_bytes(text))


# Upper bounds for budget reservations. A BPE token covers at least one byte, so UTF-8
# bytes bound text tokens; images are bounded by the largest per-image charge we know of.
IMAGE_TOKENS_BOUND = 1_600
PER_MESSAGE_BOUND = 8


def _content_bytes(content: Any) -> int:
    if isinstance(content, str):
        return text_bytes(content)
    total = 0
    if isinstance(content, list):
        for part in content:
            if isinstance(part, dict):
                text = part.get("text")
                if isinstance(text, str):
                    total += text_bytes(text)
            elif isinstance(part, str):
                total += text_bytes(part)
    return total


def _content_sizes(content: Any) -> tuple[int, int]:
    """(text bytes the estimate counts, extra the worst case adds: images, audio, files)."""
    if isinstance(content, str):
        return text_bytes(content), 0
    text = extra = 0
    if isinstance(content, list):
        for part in content:
            if isinstance(part, str):
                text += text_bytes(part)
            elif isinstance(part, dict):
                kind = part.get("type")
                if isinstance(part.get("text"), str):
                    text += text_bytes(part["text"])
                elif kind in ("image_url", "image", "input_image"):
                    extra += IMAGE_TOKENS_BOUND
                else:
                    # Audio and files: their JSON size bounds what the model reads from them.
                    extra += len(orjson.dumps(part))
    return text, extra


def measure_prompt(request: dict[str, Any]) -> tuple[int, int]:
    """(estimate, bound) of an OpenAI chat request's input tokens, in one walk.

    The estimate (~4 bytes a token, 4 per message) is what an upstream that reports nothing
    is billed for and what the TPM limiter counts up front. The bound never underestimates
    (a token is at least a byte; images at IMAGE_TOKENS_BOUND each): budgets reserve it.
    """
    messages = request.get("messages") or []
    text = extra = 0
    for message in messages:
        if not isinstance(message, dict):
            continue
        content_text, content_extra = _content_sizes(message.get("content"))
        text += content_text
        extra += content_extra
        for call in message.get("tool_calls") or ():
            function = call.get("function") or {}
            text += text_bytes(function.get("name") or "")
            text += text_bytes(function.get("arguments") or "")
    tools = request.get("tools")
    if tools:
        text += len(orjson.dumps(tools))
    fmt = request.get("response_format")
    if isinstance(fmt, dict) and fmt.get("type") == "json_schema":
        extra += len(orjson.dumps(fmt))
    estimate = tokens_for_bytes(text) + PER_MESSAGE_TOKENS * len(messages)
    return estimate, text + extra + PER_MESSAGE_BOUND * len(messages)


def estimate_prompt_tokens(request: dict[str, Any]) -> int:
    """Estimate the prompt tokens of an OpenAI chat request (see `measure_prompt`)."""
    return measure_prompt(request)[0]


def measure_embedding_input(inputs: Any) -> tuple[int, int]:
    """(estimate, bound) of an embeddings `input`: a string, strings, or token arrays."""
    if isinstance(inputs, str):
        size = text_bytes(inputs)
        return tokens_for_bytes(size), size
    estimate = bound = 0
    for item in inputs or ():
        if isinstance(item, str):
            size = text_bytes(item)
            estimate += tokens_for_bytes(size)
            bound += size
        elif isinstance(item, int):
            estimate += 1
            bound += 1
        elif isinstance(item, list):
            estimate += len(item)
            bound += len(item)
    return estimate, bound


def estimate_embedding_tokens(inputs: Any) -> int:
    return measure_embedding_input(inputs)[0]


def estimate_completion_tokens(response: dict[str, Any]) -> int:
    """Estimate the completion tokens of an OpenAI `chat.completion` object."""
    total = 0
    for choice in response.get("choices") or ():
        message = choice.get("message") or {}
        total += _content_bytes(message.get("content"))
        for call in message.get("tool_calls") or ():
            function = call.get("function") or {}
            total += text_bytes(function.get("name") or "")
            total += text_bytes(function.get("arguments") or "")
    return tokens_for_bytes(total)
