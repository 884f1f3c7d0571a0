"""A cheap token estimator for when the upstream reports no usage.

Roughly 4 bytes of UTF-8 per token, rounded up, plus 4 tokens of framing per message.
It is deliberately simple and deterministic: it bills a cut stream fairly without
shipping a tokenizer, and the same input always yields the same count.
"""

from __future__ import annotations

from typing import Any

import orjson

from apps.gateway.providers.media import OPENAI, media_tokens

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
# bytes bound text tokens; images, audio and files are counted by providers/media.py.
PER_MESSAGE_BOUND = 8
DEFAULT_FAMILIES = (OPENAI,)


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


def measure_prompt(
    request: dict[str, Any], families: tuple[str, ...] = DEFAULT_FAMILIES
) -> tuple[int, int]:
    """(estimate, bound) of an OpenAI chat request's input tokens, in one walk.

    The estimate (~4 bytes a token, 4 per message, media by the rule of `families[0]`, the
    provider family of the first target) is what an upstream that reports nothing
    believable is billed for and what the TPM limiter counts up front. The bound never
    underestimates (a token is at least a byte; media at the dearest rule of all
    `families` a request may be routed to): budgets reserve it.
    """
    messages = request.get("messages") or []
    text = media = media_bound = 0
    for message in messages:
        if not isinstance(message, dict):
            continue
        content = message.get("content")
        if isinstance(content, str):
            text += text_bytes(content)
        elif isinstance(content, list):
            for part in content:
                if not isinstance(part, dict):
                    continue
                part_text = part.get("text")
                if isinstance(part_text, str):
                    text += text_bytes(part_text)
                else:
                    estimate, bound = media_tokens(part, families)
                    media += estimate
                    media_bound += bound
        for call in message.get("tool_calls") or ():
            function = call.get("function") or {}
            text += text_bytes(function.get("name") or "")
            text += text_bytes(function.get("arguments") or "")
    extra = 0
    tools = request.get("tools")
    if tools:
        text += len(orjson.dumps(tools))
    fmt = request.get("response_format")
    if isinstance(fmt, dict) and fmt.get("type") == "json_schema":
        extra += len(orjson.dumps(fmt))
    estimate = tokens_for_bytes(text) + media + PER_MESSAGE_TOKENS * len(messages)
    return estimate, text + extra + media_bound + PER_MESSAGE_BOUND * len(messages)


def estimate_prompt_tokens(
    request: dict[str, Any], families: tuple[str, ...] = DEFAULT_FAMILIES
) -> int:
    """Estimate the prompt tokens of an OpenAI chat request (see `measure_prompt`)."""
    return measure_prompt(request, families)[0]


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
    """Estimate the completion tokens of an OpenAI `chat.completion` object.

    It is an upstream's answer (and used exactly when the upstream's usage was missing or
    garbage), so anything that is not the expected shape counts nothing instead of raising.
    """
    total = 0
    choices = response.get("choices")
    for choice in choices if isinstance(choices, list) else ():
        message = choice.get("message") if isinstance(choice, dict) else None
        if not isinstance(message, dict):
            continue
        total += _content_bytes(message.get("content"))
        calls = message.get("tool_calls")
        for call in calls if isinstance(calls, list) else ():
            function = call.get("function") if isinstance(call, dict) else None
            if isinstance(function, dict):
                for value in (function.get("name"), function.get("arguments")):
                    if isinstance(value, str):
                        total += text_bytes(value)
    return tokens_for_bytes(total)
