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


def estimate_prompt_tokens(request: dict[str, Any]) -> int:
    """Estimate the prompt tokens of an OpenAI chat request.

    Counts message text, tool-call names and arguments, and the tool definitions (the
    model reads them as prompt). Images and audio are not counted.
    """
    messages = request.get("messages") or []
    total = 0
    for message in messages:
        if not isinstance(message, dict):
            continue
        total += _content_bytes(message.get("content"))
        for call in message.get("tool_calls") or ():
            function = call.get("function") or {}
            total += text_bytes(function.get("name") or "")
            total += text_bytes(function.get("arguments") or "")
    tools = request.get("tools")
    if tools:
        total += len(orjson.dumps(tools))
    return tokens_for_bytes(total) + PER_MESSAGE_TOKENS * len(messages)


def estimate_embedding_tokens(inputs: Any) -> int:
    """Estimate tokens for an embeddings `input`: a string, strings, or token arrays."""
    if isinstance(inputs, str):
        return estimate_text_tokens(inputs)
    total = 0
    for item in inputs or ():
        if isinstance(item, str):
            total += estimate_text_tokens(item)
        elif isinstance(item, int):
            total += 1
        elif isinstance(item, list):
            total += len(item)
    return total


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
