from __future__ import annotations

from email.utils import formatdate

import aiohttp
import orjson

from apps.gateway.providers.errors import (
    error_from_exception,
    error_from_response,
    is_retryable_status,
    parse_retry_after,
    redact,
)


def openai_body(code: str | None, error_type: str = "requests", message: str = "boom") -> bytes:
    return orjson.dumps({"error": {"message": message, "type": error_type, "code": code}})


def test_it_marks_transient_statuses_retryable() -> None:
    for status in (408, 409, 429, 500, 502, 503, 504, 529):
        assert is_retryable_status(status)
    for status in (400, 401, 403, 404, 413, 422):
        assert not is_retryable_status(status)


def test_it_parses_retry_after_seconds_date_and_ms() -> None:
    assert parse_retry_after({"retry-after": "2"}) == 2.0
    assert parse_retry_after({"retry-after-ms": "1500", "retry-after": "9"}) == 1.5
    now = 1_000_000.0
    assert parse_retry_after({"retry-after": formatdate(now + 30, usegmt=True)}, now=now) == 30.0
    assert parse_retry_after({"retry-after": formatdate(now - 30, usegmt=True)}, now=now) == 0.0
    assert parse_retry_after({"retry-after": "soon"}) is None
    assert parse_retry_after({}) is None


def test_a_rate_limit_is_retryable_with_retry_after() -> None:
    err = error_from_response(429, {"retry-after": "3"}, openai_body("rate_limit_exceeded"), "x")
    assert (err.status, err.kind, err.retryable, err.retry_after) == (
        429,
        "rate_limited",
        True,
        3.0,
    )
    assert err.code == "rate_limit_exceeded"


def test_insufficient_quota_is_not_retryable() -> None:
    body = openai_body("insufficient_quota", "insufficient_quota")
    err = error_from_response(429, {"retry-after": "3"}, body, "openai")
    assert err.kind == "rate_limited"
    assert not err.retryable
    assert err.retry_after is None
    assert err.code == "insufficient_quota"


def test_server_errors_are_retryable_and_client_errors_not() -> None:
    anthropic = orjson.dumps(
        {"type": "error", "error": {"type": "overloaded_error", "message": "x"}}
    )
    err = error_from_response(529, {}, anthropic, "anthropic")
    assert (err.kind, err.retryable, err.code) == ("server", True, "overloaded_error")
    err = error_from_response(400, {}, openai_body("context_length_exceeded"), "openai")
    assert (err.kind, err.retryable) == ("client", False)
    assert "boom" in err.message


def test_non_json_bodies_are_handled() -> None:
    err = error_from_response(502, {}, b"<html>Bad gateway</html>", "openai")
    assert err.message == "upstream openai returned HTTP 502"
    assert err.retryable


def test_auth_failures_never_echo_the_upstream_message() -> None:
    body = openai_body("invalid_api_key", message="Incorrect API key provided: sk-abc***wxyz")
    err = error_from_response(401, {}, body, "openai")
    assert "sk-" not in err.message
    assert err.body is None
    assert not err.retryable


def test_it_masks_anything_shaped_like_a_key() -> None:
    body = openai_body(None, message="key sk-proj-abcdef123456 is bad")
    err = error_from_response(400, {}, body, "openai")
    assert "abcdef123456" not in err.message
    assert "abcdef123456" not in orjson.dumps(err.body).decode()
    assert redact("AIzaSyA-1234567890") == "AIza***"


def test_transport_failures_are_retryable() -> None:
    timeout = error_from_exception(TimeoutError(), "openai")
    assert (timeout.kind, timeout.retryable, timeout.status) == ("timeout", True, None)
    refused = error_from_exception(aiohttp.ClientConnectionError("refused"), "openai")
    assert (refused.kind, refused.retryable) == ("connection", True)
