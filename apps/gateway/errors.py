"""THE one place that renders gateway errors.

OpenAI's shape (`{"error": {"message", "type", "param", "code"}}`) on /v1/chat/completions,
/v1/models and /v1/embeddings; Anthropic's (`{"type": "error", "error": {"type",
"message"}}`) on /v1/messages. Messages are written by the gateway (or already redacted by
the provider layer), so they never echo a key.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from django.http import HttpResponse

from apps.gateway.providers.base import UpstreamError

# HTTP status → OpenAI error `type` (the SDK keys its exception classes off the status).
_OPENAI_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "insufficient_quota",
    403: "permission_error",
    404: "invalid_request_error",
    413: "invalid_request_error",
    429: "rate_limit_error",
    502: "upstream_error",
    503: "service_unavailable",
    504: "timeout",
}
# HTTP status → Anthropic error `type` (their documented vocabulary).
_ANTHROPIC_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    502: "api_error",
    503: "overloaded_error",
    504: "timeout_error",
}


class GatewayError(Exception):
    """A request the gateway refuses or could not serve. Raised anywhere, rendered here."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str | None = None,
        param: str | None = None,
        error_type: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.param = param
        self.error_type = error_type
        self.headers = dict(headers or {})

    def openai_body(self) -> dict[str, Any]:
        error_type = self.error_type or _OPENAI_TYPES.get(
            self.status, "api_error" if self.status >= 500 else "invalid_request_error"
        )
        return {
            "error": {
                "message": self.message,
                "type": error_type,
                "param": self.param,
                "code": self.code,
            }
        }

    def anthropic_body(self) -> dict[str, Any]:
        error_type = _ANTHROPIC_TYPES.get(
            self.status, "api_error" if self.status >= 500 else "invalid_request_error"
        )
        return {"type": "error", "error": {"type": error_type, "message": self.message}}


def bad_request(message: str, param: str | None = None, code: str | None = None) -> GatewayError:
    return GatewayError(400, message, param=param, code=code or "invalid_request")


def from_upstream(exc: UpstreamError, *, all_failed: bool) -> GatewayError:
    """The client-facing error for an upstream failure.

    A non-retryable 4xx (the request's own fault, e.g. context too long) keeps its status
    so clients see what they would see at the provider; anything after exhausting every
    target is 502, 503 (overloaded / rate limited upstream) or 504 (timeout).
    """
    if not all_failed and exc.status is not None and 400 <= exc.status < 500:
        return GatewayError(exc.status, exc.message, code=exc.code or "upstream_rejected")
    if exc.kind == "timeout":
        status = 504
    elif exc.status in (429, 503, 529) or exc.kind == "rate_limited":
        status = 503
    else:
        status = 502
    return GatewayError(status, exc.message, code=f"upstream_{exc.kind}")


def render(exc: GatewayError, *, anthropic: bool, headers: Mapping[str, str]) -> HttpResponse:
    body = exc.anthropic_body() if anthropic else exc.openai_body()
    response = HttpResponse(orjson.dumps(body), status=exc.status, content_type="application/json")
    for name, value in headers.items():
        response[name] = value
    for name, value in exc.headers.items():
        response[name] = value
    # Refusals are normal traffic, not server trouble: skip django.request's warning line.
    response._has_been_logged = True  # type: ignore[attr-defined]
    return response


def openai_stream_error(exc: GatewayError) -> bytes:
    """An error inside an already-started OpenAI SSE stream (the SDK raises on it)."""
    return b"data: " + orjson.dumps(exc.openai_body()) + b"\n\n"
