"""Request validation for /v1, before anything reaches an upstream.

Checks shape and types only, naming the offending field in `param` the way OpenAI does
(`messages[2].role`); anything else is passed through to the target untouched.
"""

from __future__ import annotations

from typing import Any

import orjson

from apps.gateway.errors import GatewayError, bad_request

CHAT_ROLES = frozenset({"system", "developer", "user", "assistant", "tool", "function"})
ANTHROPIC_ROLES = frozenset({"user", "assistant", "system"})
ANTHROPIC_VERSIONS = frozenset({"2023-06-01", "2026-10-21"})


def parse_json(raw: bytes, max_bytes: int) -> dict[str, Any]:
    if len(raw) > max_bytes:
        raise too_large(max_bytes)
    if not raw:
        raise bad_request("The request body is empty; send a JSON object.", code="invalid_json")
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise bad_request(f"The request body is not valid JSON: {exc}.", code="invalid_json")
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object.", code="invalid_json")
    return body


def too_large(max_bytes: int) -> GatewayError:
    return GatewayError(
        413,
        f"The request body is larger than the {max_bytes} bytes this gateway accepts.",
        code="request_too_large",
    )


def _type_error(param: str, expected: str) -> GatewayError:
    return bad_request(f"'{param}' must be {expected}.", param=param, code="invalid_type")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def require_model(body: dict[str, Any]) -> str:
    model = body.get("model")
    if model is None or model == "":
        raise bad_request("'model' is required.", param="model", code="missing_required_parameter")
    if not isinstance(model, str):
        raise _type_error("model", "a string")
    return model


def _optional(body: dict[str, Any], name: str, check: Any, expected: str) -> None:
    value = body.get(name)
    if value is not None and not check(value):
        raise _type_error(name, expected)


def _positive_int(value: Any) -> bool:
    return _is_int(value) and value > 0


def validate_chat(body: dict[str, Any]) -> str:
    """Validate an OpenAI chat request; returns the model name."""
    model = require_model(body)
    messages = body.get("messages")
    if messages is None:
        raise bad_request(
            "'messages' is required.", param="messages", code="missing_required_parameter"
        )
    if not isinstance(messages, list):
        raise _type_error("messages", "an array")
    if not messages:
        raise bad_request("'messages' must not be empty.", param="messages", code="empty_array")
    for i, message in enumerate(messages):
        if not isinstance(message, dict):
            raise _type_error(f"messages[{i}]", "an object")
        role = message.get("role")
        if role not in CHAT_ROLES:
            raise bad_request(
                f"'messages[{i}].role' must be one of {', '.join(sorted(CHAT_ROLES))}.",
                param=f"messages[{i}].role",
                code="invalid_value",
            )
        content = message.get("content")
        if content is not None and not isinstance(content, (str, list)):
            raise _type_error(f"messages[{i}].content", "a string or an array of parts")
        if content is None and role in ("user", "system", "developer"):
            raise bad_request(
                f"'messages[{i}].content' is required.",
                param=f"messages[{i}].content",
                code="missing_required_parameter",
            )
    _optional(body, "stream", lambda v: isinstance(v, bool), "a boolean")
    _optional(body, "max_tokens", _positive_int, "a positive integer")
    _optional(body, "max_completion_tokens", _positive_int, "a positive integer")
    _optional(body, "n", _positive_int, "a positive integer")
    _optional(body, "temperature", _is_number, "a number")
    _optional(body, "top_p", _is_number, "a number")
    _optional(body, "seed", _is_int, "an integer")
    _optional(body, "tools", lambda v: isinstance(v, list), "an array")
    _optional(body, "stream_options", lambda v: isinstance(v, dict), "an object")
    _optional(body, "response_format", lambda v: isinstance(v, dict), "an object")
    _optional(body, "user", lambda v: isinstance(v, str), "a string")
    stop = body.get("stop")
    if stop is not None and not (
        isinstance(stop, str) or (isinstance(stop, list) and all(isinstance(s, str) for s in stop))
    ):
        raise _type_error("stop", "a string or an array of strings")
    if body.get("stream_options") is not None and not body.get("stream"):
        raise bad_request(
            "'stream_options' is only allowed when 'stream' is true.",
            param="stream_options",
            code="invalid_value",
        )
    return model


def validate_embeddings(body: dict[str, Any]) -> str:
    model = require_model(body)
    inputs = body.get("input")
    if inputs is None:
        raise bad_request("'input' is required.", param="input", code="missing_required_parameter")
    ok = isinstance(inputs, str) or (
        isinstance(inputs, list)
        and bool(inputs)
        and (
            all(isinstance(i, str) for i in inputs)
            or all(_is_int(i) for i in inputs)
            or all(isinstance(i, list) and all(_is_int(t) for t in i) for i in inputs)
        )
    )
    if not ok or inputs == "":
        raise bad_request(
            "'input' must be a non-empty string, an array of strings, or token arrays.",
            param="input",
            code="invalid_value",
        )
    fmt = body.get("encoding_format")
    if fmt is not None and fmt not in ("float", "base64"):
        raise bad_request(
            "'encoding_format' must be 'float' or 'base64'.",
            param="encoding_format",
            code="invalid_value",
        )
    _optional(body, "dimensions", _positive_int, "a positive integer")
    return model


def validate_messages(body: dict[str, Any], version: str | None) -> str:
    """Validate an Anthropic Messages request; returns the model name."""
    if version is not None and version not in ANTHROPIC_VERSIONS:
        raise bad_request(
            f"anthropic-version must be one of {', '.join(sorted(ANTHROPIC_VERSIONS))}.",
            param="anthropic-version",
        )
    model = require_model(body)
    max_tokens = body.get("max_tokens")
    if max_tokens is None:
        raise bad_request("max_tokens: Field required", param="max_tokens")
    if not _positive_int(max_tokens):
        raise _type_error("max_tokens", "a positive integer")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise bad_request("messages: must be a non-empty array", param="messages")
    for i, message in enumerate(messages):
        if not isinstance(message, dict) or message.get("role") not in ANTHROPIC_ROLES:
            raise bad_request(
                f"messages.{i}.role: must be 'user' or 'assistant'", param=f"messages[{i}].role"
            )
        if not isinstance(message.get("content"), (str, list)):
            raise _type_error(f"messages[{i}].content", "a string or an array of blocks")
    _optional(body, "stream", lambda v: isinstance(v, bool), "a boolean")
    system = body.get("system")
    if system is not None and not isinstance(system, (str, list)):
        raise _type_error("system", "a string or an array of text blocks")
    return model
