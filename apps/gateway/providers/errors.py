"""Turn upstream failures into `UpstreamError`.

One place decides what is retryable, so every adapter agrees: 408, 409, 429 and every 5xx
(529 "overloaded" included) plus timeouts and connection failures may be retried on
another attempt; other 4xx are the request's own fault. A 429 that means "out of money"
(`insufficient_quota`) is not retryable, since waiting will not help.

Messages are meant for clients, so they never carry keys: authentication failures get a
generic message and anything shaped like a key is masked.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Mapping
from email.utils import parsedate_to_datetime
from typing import Any

import aiohttp
import orjson

from apps.gateway.providers.base import UpstreamError

MAX_MESSAGE_CHARS = 500
_NOT_RETRYABLE_CODES = frozenset(
    {"insufficient_quota", "credit_balance_exhausted", "billing_error"}
)
_KEYLIKE = re.compile(r"(sk-|sk_|AIza|key-|xai-|gsk_)[A-Za-z0-9_\-*.]{4,}")


def is_retryable_status(status: int) -> bool:
    return status in (408, 409, 429) or status >= 500


def parse_retry_after(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds to wait, from `retry-after-ms`, or `retry-after` as seconds or an HTTP date."""
    value = headers.get("retry-after-ms")
    if value:
        try:
            return max(0.0, float(value) / 1000.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


def redact(text: str) -> str:
    text = _KEYLIKE.sub(lambda m: m.group(1) + "***", text)
    if len(text) > MAX_MESSAGE_CHARS:
        text = text[:MAX_MESSAGE_CHARS] + "…"
    return text


def _error_fields(body: Any) -> tuple[str | None, str | None]:
    """(message, code) from OpenAI, Anthropic or Gemini error bodies."""
    if not isinstance(body, dict):
        return None, None
    error = body.get("error")
    if isinstance(error, str):
        return error, None
    if not isinstance(error, dict):
        message = body.get("message")
        return (message if isinstance(message, str) else None), None
    message = error.get("message")
    # OpenAI: code (more specific) then type; Anthropic: type; Gemini: status (+ numeric code).
    code = error.get("code")
    if not isinstance(code, str):
        code = error.get("type") or error.get("status")
    return (message if isinstance(message, str) else None), (
        code if isinstance(code, str) else None
    )


def error_from_response(
    status: int, headers: Mapping[str, str], raw: bytes, provider: str
) -> UpstreamError:
    """Build the error for an HTTP error response (status >= 400)."""
    try:
        body: Any = orjson.loads(raw) if raw else None
    except orjson.JSONDecodeError:
        body = None
    message, code = _error_fields(body)
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        # OpenAI also uses `type` for the quota case; check both so neither is missed.
        error_type = body["error"].get("type")
        if error_type in _NOT_RETRYABLE_CODES:
            code = error_type
    if status in (401, 403):
        # The upstream's own wording can echo (part of) our key; clients only need this.
        message = f"upstream {provider} rejected the gateway's credentials (HTTP {status})"
        body = None
    elif message:
        message = redact(f"upstream {provider} error (HTTP {status}): {message}")
        body = {"error": {"message": message, "code": code}}
    else:
        message = f"upstream {provider} returned HTTP {status}"
        body = None
    retryable = is_retryable_status(status)
    if status == 429:
        kind = "rate_limited"
        if code in _NOT_RETRYABLE_CODES:
            retryable = False
    elif status == 408:
        kind = "timeout"
    elif status >= 500:
        kind = "server"
    else:
        kind = "client"
    return UpstreamError(
        message,
        status=status,
        kind=kind,
        retryable=retryable,
        retry_after=parse_retry_after(headers) if retryable else None,
        body=body,
        code=code,
    )


def error_from_exception(exc: BaseException, provider: str) -> UpstreamError:
    """Map a transport failure before any data arrived. Retryable: nothing was sent on."""
    if isinstance(exc, (asyncio.TimeoutError, aiohttp.ServerTimeoutError)):
        return UpstreamError(f"upstream {provider} timed out", kind="timeout", retryable=True)
    return UpstreamError(
        f"could not reach upstream {provider}: {type(exc).__name__}",
        kind="connection",
        retryable=True,
    )


def stream_error_from_body(body: Any, provider: str) -> UpstreamError:
    """An error event inside an already-started stream (HTTP status was 200)."""
    message, code = _error_fields(body)
    if code in ("overloaded_error", "api_error", "server_error", "rate_limit_error"):
        kind = "server"
    else:
        kind = "upstream_error"
    text = redact(f"upstream {provider} stream error: {message or 'unknown error'}")
    return UpstreamError(text, kind=kind, retryable=False, code=code)
