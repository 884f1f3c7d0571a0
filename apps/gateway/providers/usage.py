"""Token counts reported by an upstream are untrusted input.

A provider (or a compromised or buggy OpenAI-compatible server) can report anything:
negative counts that would pay the customer back, counts so large they overflow a column
or a budget, strings, floats or nulls that crash arithmetic. Every adapter reads usage
through `usage_from_openai` (the translators hand Anthropic's and Gemini's counts over in
OpenAI shape): a count must be an integer between 0 and `MAX_REPORTED_TOKENS`, the
required ones must be present, and cached tokens cannot exceed the prompt. Anything else
raises `BadUsage`; the adapter then bills the gateway's own estimate and marks the usage
`rejected`, and the workflow logs a warning naming the provider and the request.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from apps.gateway.providers.base import Usage
from apps.gateway.providers.media import OPENAI
from apps.gateway.providers.tokens import estimate_prompt_tokens, tokens_for_bytes
from apps.gateway.providers.transport import SSEChatStream

# No model reads or writes this many tokens in one request (the largest contexts are a few
# million); a count above it is a provider bug, and it stays far below int32 columns.
MAX_REPORTED_TOKENS = 50_000_000


class BadUsage(ValueError):
    """The upstream's usage is not a believable set of token counts."""


def _count(value: Any, name: str, *, required: bool) -> int:
    if value is None:
        if required:
            raise BadUsage(f"{name} is missing")
        return 0
    # `type(...) is int`: bools and floats (even 12.0) are not token counts.
    if type(value) is int and 0 <= value <= MAX_REPORTED_TOKENS:
        return value
    raise BadUsage(f"{name}={str(value)[:40]!r} is not a token count")


def combine(*values: Any) -> Any:
    """Sum token counts for a translator; absent (None) ones are skipped, None if all are.

    A value that is not a valid count is passed on unchanged instead of summed (which could
    raise or hide it), so that `usage_from_openai` rejects the result.
    """
    total = None
    for value in values:
        if value is None:
            continue
        if type(value) is not int or not 0 <= value <= MAX_REPORTED_TOKENS:
            return value
        total = value if total is None else total + value
    return total


def usage_from_openai(raw: Any, *, reported: bool = True) -> Usage:
    """Validated `Usage` from an OpenAI-shaped usage object; raises `BadUsage`."""
    if not isinstance(raw, dict):
        raise BadUsage("usage is not an object")
    prompt = _count(raw.get("prompt_tokens"), "prompt_tokens", required=True)
    completion = _count(raw.get("completion_tokens"), "completion_tokens", required=True)
    details = raw.get("prompt_tokens_details")
    cached = written = 0
    if details is not None:
        if not isinstance(details, dict):
            raise BadUsage("prompt_tokens_details is not an object")
        cached = _count(details.get("cached_tokens"), "cached_tokens", required=False)
        written = _count(details.get("cache_write_tokens"), "cache_write_tokens", required=False)
    if cached + written > prompt:
        raise BadUsage("cached and written tokens exceed prompt_tokens")
    return Usage(prompt, completion, cached, written, reported=reported)


def embedding_usage(raw: Any) -> Usage:
    """Validated `Usage` of an embeddings answer (`prompt_tokens` only); raises `BadUsage`."""
    if not isinstance(raw, dict):
        raise BadUsage("usage is not an object")
    return Usage(prompt_tokens=_count(raw.get("prompt_tokens"), "prompt_tokens", required=True))


def checked(raw: Any, estimate: Callable[[], Usage], *, embedding: bool = False) -> Usage:
    """The upstream's usage if it reported a believable one, else the gateway's estimate
    (`rejected` says why when the upstream reported garbage)."""
    if not raw:  # none reported (absent, null or empty)
        return estimate()
    try:
        usage = embedding_usage(raw) if embedding else usage_from_openai(raw)
    except BadUsage as exc:
        fallback = estimate()
        fallback.reported = False
        fallback.rejected = str(exc)
        return fallback
    usage.reported = True
    return usage


def usage_dict(usage: Usage) -> dict[str, Any]:
    """A `Usage` in OpenAI shape, for answers and usage chunks sent to clients."""
    details: dict[str, Any] = {"cached_tokens": usage.cached_tokens}
    if usage.cache_write_tokens:
        details["cache_write_tokens"] = usage.cache_write_tokens
    return {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.prompt_tokens + usage.completion_tokens,
        "prompt_tokens_details": details,
    }


class GuardedStream(SSEChatStream):
    """An upstream SSE stream whose reported usage is validated before it is believed.

    Garbage in the final usage leaves the stream to be settled at the gateway's own count
    (the prompt estimate plus what was streamed, counted to the very end) and replaces the
    usage the client would have seen with that count. Garbage in an early hint
    (Anthropic's `message_start`, Gemini's partial fragments) is simply not used.
    """

    _rejected = ""
    family = OPENAI  # whose media rule estimates the prompt if no count is believed

    def _take_final(self, raw: Any) -> bool:
        """Believe `raw` as the stream's final usage; False if it is garbage."""
        try:
            self.usage = usage_from_openai(raw)
        except BadUsage as exc:
            self._rejected = str(exc)
            self.usage = Usage()  # unreported: `_finalize` counts the stream itself
            return False
        self._rejected = ""  # a later believable report (some servers repeat usage) wins
        return True

    def _hint(self, raw: Any) -> Usage | None:
        try:
            return usage_from_openai(raw, reported=False)
        except BadUsage:
            return None

    def _prompt_estimate(self) -> int:
        if self._prompt_hint is not None:
            return self._prompt_hint
        return estimate_prompt_tokens(self._request, (self.family,))

    def _patch(self, chunks: Iterable[dict[str, Any]]) -> Iterable[dict[str, Any]]:
        """Usage chunks carry the gateway's count so far once the upstream's was rejected."""
        if not self._rejected:
            return chunks
        out = list(chunks)
        for chunk in out:
            if chunk.get("usage") is not None:
                counted = Usage(
                    self._prompt_estimate(),
                    max(self._completion_hint, tokens_for_bytes(self._completion_bytes)),
                    self._cached_hint,
                    self._cache_write_hint,
                )
                chunk["usage"] = usage_dict(counted)
        return out

    def _finalize(self) -> None:
        if self._prompt_hint is None and self.family != OPENAI and not self._finalized:
            self._prompt_hint = self._prompt_estimate()
        super()._finalize()
        if self._rejected:
            self.usage.rejected = self._rejected
