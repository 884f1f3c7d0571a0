"""Request validation for /v1, before anything reaches an upstream.

Checks fields, shapes, types and ranges, naming the offending field in `param` the way
OpenAI does (`messages[2].role`). Bad input is always a 400 here, never a 5xx later: every
integer has a bound (a huge `max_tokens` once overflowed the reservation's integer column
and surfaced as a 503), and every nested object the gateway later reads is checked to be
an object. The per-route field rules are documented in docs/gateway-fields.md:

- /v1/chat/completions forwards the body to OpenAI-shaped upstreams almost untouched, so
  only KNOWN fields are accepted; an unknown field is refused (as OpenAI does).
- /v1/messages rebuilds an OpenAI request from the fields it knows; anything else is
  dropped by construction, never forwarded.
- /v1/embeddings accepts only its known fields; an unknown one is refused.
- On every route, a field that changes what the provider charges and that the price book
  does not price (priority tiers, audio output, web search, predicted outputs, Anthropic
  server tools, …) is refused with a 400 naming it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from apps.gateway.errors import GatewayError, bad_request

# Tuples, not sets: a client's value may be a list or an object, and `in` on a set would
# hash it (a TypeError, a 500); a tuple compares, which is as fast for a handful of names.
CHAT_ROLES = ("system", "developer", "user", "assistant", "tool", "function")
ANTHROPIC_ROLES = ("user", "assistant", "system")
ANTHROPIC_VERSIONS = frozenset({"2023-06-01", "2026-10-21"})
FIELDS_DOC = "docs/gateway-fields.md"

# Bounds on client integers. Output limits above any model's cap are clamped to the cap by
# the reservation; beyond these they are nonsense and are refused before reaching SQL.
MAX_OUTPUT_TOKENS = 1_000_000
MAX_CHOICES = 128  # OpenAI's own limit on `n`
MAX_STOP_SEQUENCES = 4
MAX_TOOLS = 512
MAX_TOP_LOGPROBS = 20
MAX_EMBEDDING_INPUTS = 2048  # OpenAI's limit on inputs per request
MAX_EMBEDDING_DIMENSIONS = 16_384
MAX_TOKEN_ID = 2**31 - 1
INT64 = 2**63

# `service_tier` values billed at the standard price (the provider project's own tier).
CHAT_SERVICE_TIERS = ("auto", "default")
EMBEDDING_FIELDS = frozenset({"model", "input", "encoding_format", "dimensions", "user"})
IMAGE_DETAILS = ("auto", "low", "high", "original")
CHAT_PART_TYPES = ("text", "image_url", "input_audio", "file", "refusal")
ANTHROPIC_UNPRICED = {
    "mcp_servers": "remote MCP tool calls are not priced by this gateway",
    "container": "code-execution containers are not priced by this gateway",
    "inference_geo": "regional inference is priced differently and not by this gateway",
}
ANTHROPIC_SERVICE_TIERS = ("standard_only",)
ANTHROPIC_BLOCK_TYPES = (
    "text",
    "image",
    "document",
    "tool_use",
    "tool_result",
    "thinking",
    "redacted_thinking",
)


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


def _invalid(param: str, message: str) -> GatewayError:
    return bad_request(f"'{param}' {message}.", param=param, code="invalid_value")


def _unknown_field(name: str, route: str) -> GatewayError:
    return bad_request(
        f"Unrecognized request argument supplied: {name}. {route} accepts only the fields "
        f"listed in {FIELDS_DOC}.",
        param=name,
        code="unknown_parameter",
    )


def _unpriced(param: str, why: str) -> GatewayError:
    return bad_request(
        f"'{param}' is not supported: {why} (see {FIELDS_DOC}).",
        param=param,
        code="unsupported_parameter",
    )


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _int_in(body: dict[str, Any], name: str, low: int, high: int) -> None:
    value = body.get(name)
    if value is None:
        return
    if not _is_int(value):
        raise _type_error(name, "an integer")
    if not low <= value <= high:
        raise _invalid(name, f"must be between {low} and {high}")


def _number_in(body: dict[str, Any], name: str, low: float, high: float) -> None:
    value = body.get(name)
    if value is None:
        return
    if not _is_number(value):
        raise _type_error(name, "a number")
    if not low <= value <= high:
        raise _invalid(name, f"must be between {low} and {high}")


def _optional(
    body: dict[str, Any], name: str, kind: type | tuple[type, ...], expected: str
) -> None:
    value = body.get(name)
    if value is not None and not isinstance(value, kind):
        raise _type_error(name, expected)


def require_model(body: dict[str, Any]) -> str:
    model = body.get("model")
    if model is None or model == "":
        raise bad_request("'model' is required.", param="model", code="missing_required_parameter")
    if not isinstance(model, str):
        raise _type_error("model", "a string")
    return model


# -- /v1/chat/completions -------------------------------------------------------------


def _check_parts(content: list[Any], where: str) -> None:
    for j, part in enumerate(content):
        param = f"{where}[{j}]"
        if not isinstance(part, dict):
            raise _type_error(param, "an object")
        kind = part.get("type")
        if kind not in CHAT_PART_TYPES:
            raise _invalid(f"{param}.type", f"must be one of {', '.join(sorted(CHAT_PART_TYPES))}")
        if kind == "text" or kind == "refusal":
            if not isinstance(part.get(kind), str):
                raise _type_error(f"{param}.{kind}", "a string")
        elif kind == "image_url":
            image = part.get("image_url")
            if not isinstance(image, dict) or not isinstance(image.get("url"), str):
                raise _type_error(f"{param}.image_url", "an object with a 'url' string")
            detail = image.get("detail")
            if detail is not None and detail not in IMAGE_DETAILS:
                raise _invalid(
                    f"{param}.image_url.detail",
                    f"must be one of {', '.join(sorted(IMAGE_DETAILS))}",
                )
        elif kind == "input_audio":
            audio = part.get("input_audio")
            if not isinstance(audio, dict) or not isinstance(audio.get("data"), str):
                raise _type_error(f"{param}.input_audio", "an object with a base64 'data' string")
        else:  # file
            file = part.get("file")
            if not isinstance(file, dict):
                raise _type_error(f"{param}.file", "an object")
            if file.get("file_id") is not None:
                # An id names a file in the gateway's own provider account: it can be neither
                # counted nor allowed to reach another customer's upload.
                raise _unpriced(f"{param}.file.file_id", "send the file inline as 'file_data'")
            if not isinstance(file.get("file_data"), str):
                raise _type_error(f"{param}.file.file_data", "a base64 data URI string")


def _check_tool_calls(calls: Any, where: str) -> None:
    param = f"{where}.tool_calls"
    if not isinstance(calls, list):
        raise _type_error(param, "an array")
    for k, call in enumerate(calls):
        at = f"{param}[{k}]"
        if not isinstance(call, dict):
            raise _type_error(at, "an object")
        if not isinstance(call.get("id"), str) or not call["id"]:
            raise _type_error(f"{at}.id", "a non-empty string")
        if call.get("type", "function") != "function":
            raise _invalid(f"{at}.type", "must be 'function'")
        function = call.get("function")
        if not isinstance(function, dict):
            raise _type_error(f"{at}.function", "an object")
        if not isinstance(function.get("name"), str) or not function["name"]:
            raise _type_error(f"{at}.function.name", "a non-empty string")
        if not isinstance(function.get("arguments"), str):
            raise _type_error(f"{at}.function.arguments", "a JSON string")


def _check_messages(messages: Any) -> None:
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
        if isinstance(content, list):
            _check_parts(content, f"messages[{i}].content")
        elif content is None:
            if role in ("user", "system", "developer"):
                raise bad_request(
                    f"'messages[{i}].content' is required.",
                    param=f"messages[{i}].content",
                    code="missing_required_parameter",
                )
        elif not isinstance(content, str):
            raise _type_error(f"messages[{i}].content", "a string or an array of parts")
        calls = message.get("tool_calls")
        if calls is not None:
            if role != "assistant":
                raise _invalid(f"messages[{i}].tool_calls", "is only allowed on assistant turns")
            _check_tool_calls(calls, f"messages[{i}]")
        if role == "tool" and not isinstance(message.get("tool_call_id"), str):
            raise _type_error(f"messages[{i}].tool_call_id", "a string")
        name = message.get("name")
        if name is not None and not isinstance(name, str):
            raise _type_error(f"messages[{i}].name", "a string")


def _check_tools(tools: Any) -> None:
    if not isinstance(tools, list):
        raise _type_error("tools", "an array")
    if len(tools) > MAX_TOOLS:
        raise _invalid("tools", f"must have at most {MAX_TOOLS} entries")
    for i, tool in enumerate(tools):
        if not isinstance(tool, dict):
            raise _type_error(f"tools[{i}]", "an object")
        kind = tool.get("type")
        if kind not in ("function", "custom"):
            raise _invalid(f"tools[{i}].type", "must be 'function' or 'custom'")
        spec = tool.get(kind)
        if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
            raise _type_error(f"tools[{i}].{kind}", "an object with a 'name' string")
        parameters = spec.get("parameters")
        if parameters is not None and not isinstance(parameters, dict):
            raise _type_error(f"tools[{i}].{kind}.parameters", "a JSON Schema object")


def _check_tool_choice(choice: Any) -> None:
    if choice is None or choice in ("none", "auto", "required"):
        return
    if not isinstance(choice, dict) or not isinstance(choice.get("type"), str):
        raise _type_error("tool_choice", "'none', 'auto', 'required' or an object")
    function = choice.get("function")
    if choice["type"] == "function" and (
        not isinstance(function, dict) or not isinstance(function.get("name"), str)
    ):
        raise _type_error("tool_choice.function", "an object with a 'name' string")


Check = Callable[[str, Any], None]


def _int_range(low: int, high: int) -> Check:
    def check(name: str, value: Any) -> None:
        if not _is_int(value):
            raise _type_error(name, "an integer")
        if not low <= value <= high:
            raise _invalid(name, f"must be between {low} and {high}")

    return check


def _number_range(low: float, high: float) -> Check:
    def check(name: str, value: Any) -> None:
        if not _is_number(value):
            raise _type_error(name, "a number")
        if not low <= value <= high:
            raise _invalid(name, f"must be between {low} and {high}")

    return check


def _of_type(kind: type | tuple[type, ...], expected: str) -> Check:
    def check(name: str, value: Any) -> None:
        if not isinstance(value, kind):
            raise _type_error(name, expected)

    return check


def _refused(why: str) -> Check:
    def check(name: str, value: Any) -> None:
        raise _unpriced(name, why)

    return check


def _checked_elsewhere(name: str, value: Any) -> None:
    """`model` and `messages` are required, so validate_chat checks them itself."""


def _check_service_tier(name: str, value: Any) -> None:
    if value not in CHAT_SERVICE_TIERS:
        raise _unpriced(name, "only the 'auto' and 'default' tiers are priced")


def _check_modalities(name: str, value: Any) -> None:
    if not isinstance(value, list):
        raise _type_error(name, "an array")
    if any(m != "text" for m in value):
        raise _unpriced(name, "only text output is priced by this gateway")


def _check_stop(name: str, value: Any) -> None:
    if isinstance(value, str):
        return
    if not isinstance(value, list) or not all(isinstance(s, str) for s in value):
        raise _type_error(name, "a string or an array of strings")
    if len(value) > MAX_STOP_SEQUENCES:
        raise _invalid(name, f"must have at most {MAX_STOP_SEQUENCES} entries")


_BOOL = _of_type(bool, "a boolean")
_OBJECT = _of_type(dict, "an object")
_STRING = _of_type(str, "a string")
_PENALTY = _number_range(-2, 2)
_OUTPUT_LIMIT = _int_range(1, MAX_OUTPUT_TOKENS)

# /v1/chat/completions: every field the gateway knows, with its check. A field not in
# here is refused. One dict lookup per field the client sent keeps this cheap: the hot
# path pays for the three or four fields a request usually has, not for the whole list.
CHAT_CHECKS: dict[str, Check] = {
    "model": _checked_elsewhere,
    "messages": _checked_elsewhere,
    "stream": _BOOL,
    "stream_options": _OBJECT,
    "max_tokens": _OUTPUT_LIMIT,
    "max_completion_tokens": _OUTPUT_LIMIT,
    "n": _int_range(1, MAX_CHOICES),
    "temperature": _number_range(0, 2),
    "top_p": _number_range(0, 1),
    "seed": _int_range(-INT64, INT64 - 1),
    "stop": _check_stop,
    "tools": lambda name, value: _check_tools(value),
    "tool_choice": lambda name, value: _check_tool_choice(value),
    "parallel_tool_calls": _BOOL,
    "functions": _of_type(list, "an array"),
    "function_call": _of_type((str, dict), "a string or an object"),
    "response_format": _OBJECT,
    "user": _STRING,
    "safety_identifier": _STRING,
    "prompt_cache_key": _STRING,
    "frequency_penalty": _PENALTY,
    "presence_penalty": _PENALTY,
    "logprobs": _BOOL,
    "top_logprobs": _int_range(0, MAX_TOP_LOGPROBS),
    "logit_bias": _OBJECT,
    "metadata": _OBJECT,
    "store": _BOOL,
    "reasoning_effort": _STRING,
    "verbosity": _STRING,
    # Known, but they make the provider charge what the price book does not price.
    "service_tier": _check_service_tier,
    "modalities": _check_modalities,
    "audio": _refused("audio output is not priced by this gateway"),
    "web_search_options": _refused("web search is charged per search and is not priced"),
    "prediction": _refused("predicted outputs bill rejected tokens no reservation bounds"),
}
CHAT_FIELDS = frozenset(CHAT_CHECKS)


def validate_chat(body: dict[str, Any]) -> str:
    """Validate an OpenAI chat request; returns the model name."""
    model = require_model(body)
    _check_messages(body.get("messages"))
    for name, value in body.items():
        check = CHAT_CHECKS.get(name)
        if check is None:
            raise _unknown_field(name, "/v1/chat/completions")
        if value is not None:
            check(name, value)
    if body.get("stream_options") is not None and not body.get("stream"):
        raise bad_request(
            "'stream_options' is only allowed when 'stream' is true.",
            param="stream_options",
            code="invalid_value",
        )
    return model


# -- /v1/embeddings -------------------------------------------------------------------


def _is_token_id(value: Any) -> bool:
    return _is_int(value) and 0 <= value <= MAX_TOKEN_ID


def validate_embeddings(body: dict[str, Any]) -> str:
    unknown = body.keys() - EMBEDDING_FIELDS
    if unknown:
        raise _unknown_field(min(unknown), "/v1/embeddings")
    model = require_model(body)
    inputs = body.get("input")
    if inputs is None:
        raise bad_request("'input' is required.", param="input", code="missing_required_parameter")
    ok = isinstance(inputs, str) or (
        isinstance(inputs, list)
        and bool(inputs)
        and (
            all(isinstance(i, str) for i in inputs)
            or all(_is_token_id(i) for i in inputs)
            or all(isinstance(i, list) and i and all(_is_token_id(t) for t in i) for i in inputs)
        )
    )
    if not ok or inputs == "":
        raise bad_request(
            "'input' must be a non-empty string, an array of strings, or token arrays.",
            param="input",
            code="invalid_value",
        )
    if isinstance(inputs, list) and len(inputs) > MAX_EMBEDDING_INPUTS and not _is_int(inputs[0]):
        raise _invalid("input", f"must have at most {MAX_EMBEDDING_INPUTS} entries")
    fmt = body.get("encoding_format")
    if fmt is not None and fmt not in ("float", "base64"):
        raise bad_request(
            "'encoding_format' must be 'float' or 'base64'.",
            param="encoding_format",
            code="invalid_value",
        )
    _int_in(body, "dimensions", 1, MAX_EMBEDDING_DIMENSIONS)
    _optional(body, "user", str, "a string")
    return model


# -- /v1/messages (Anthropic) ---------------------------------------------------------


def _check_blocks(blocks: list[Any], where: str) -> None:
    for j, block in enumerate(blocks):
        param = f"{where}.{j}"
        if not isinstance(block, dict):
            raise bad_request(f"{param}: Input should be an object", param=param)
        kind = block.get("type")
        if kind not in ANTHROPIC_BLOCK_TYPES:
            raise bad_request(f"{param}.type: unsupported content block type", param=param)
        if kind == "text" and not isinstance(block.get("text"), str):
            raise bad_request(f"{param}.text: Input should be a string", param=param)
        elif kind in ("image", "document"):
            source = block.get("source")
            if not isinstance(source, dict):
                raise bad_request(f"{param}.source: Input should be an object", param=param)
            if source.get("type") == "file":
                raise _unpriced(f"{param}.source", "send the file inline (base64 or url)")
        elif kind == "tool_use":
            if not isinstance(block.get("name"), str) or not isinstance(block.get("id"), str):
                raise bad_request(f"{param}: tool_use needs 'id' and 'name' strings", param=param)
            if not isinstance(block.get("input", {}), dict):
                raise bad_request(f"{param}.input: Input should be an object", param=param)
        elif kind == "tool_result":
            content = block.get("content")
            if content is not None and not isinstance(content, (str, list)):
                raise bad_request(f"{param}.content: a string or an array", param=param)
            if isinstance(content, list):
                _check_blocks(content, f"{param}.content")


def _check_anthropic_tools(body: dict[str, Any]) -> None:
    tools = body.get("tools")
    if tools is not None:
        if not isinstance(tools, list) or len(tools) > MAX_TOOLS:
            raise bad_request(f"tools: an array of at most {MAX_TOOLS} tools", param="tools")
        for i, tool in enumerate(tools):
            if not isinstance(tool, dict) or not isinstance(tool.get("name"), str):
                raise bad_request(f"tools.{i}: an object with a 'name'", param=f"tools[{i}]")
            if tool.get("type") not in (None, "custom"):
                # Server tools (web search, code execution, …) are billed per use by the
                # provider, and no price covers them.
                raise _unpriced(f"tools[{i}].type", "server tools are not priced")
            schema = tool.get("input_schema")
            if schema is not None and not isinstance(schema, dict):
                raise bad_request(f"tools.{i}.input_schema: an object", param=f"tools[{i}]")
    choice = body.get("tool_choice")
    if choice is not None and (not isinstance(choice, dict) or "type" not in choice):
        raise bad_request("tool_choice: an object with a 'type'", param="tool_choice")


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
    if not _is_int(max_tokens) or not 1 <= max_tokens <= MAX_OUTPUT_TOKENS:
        raise bad_request(
            f"max_tokens: must be an integer between 1 and {MAX_OUTPUT_TOKENS}",
            param="max_tokens",
        )
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise bad_request("messages: must be a non-empty array", param="messages")
    for i, message in enumerate(messages):
        if not isinstance(message, dict) or message.get("role") not in ANTHROPIC_ROLES:
            raise bad_request(
                f"messages.{i}.role: must be 'user' or 'assistant'", param=f"messages[{i}].role"
            )
        content = message.get("content")
        if isinstance(content, list):
            _check_blocks(content, f"messages.{i}.content")
        elif not isinstance(content, str):
            raise _type_error(f"messages[{i}].content", "a string or an array of blocks")
    for name, why in ANTHROPIC_UNPRICED.items():
        if body.get(name) is not None:
            raise _unpriced(name, why)
    tier = body.get("service_tier")
    if tier is not None and tier not in ANTHROPIC_SERVICE_TIERS:
        raise _unpriced("service_tier", "only 'standard_only' is priced")
    _optional(body, "stream", bool, "a boolean")
    _number_in(body, "temperature", 0, 1)
    _number_in(body, "top_p", 0, 1)
    _int_in(body, "top_k", 0, MAX_OUTPUT_TOKENS)
    _optional(body, "metadata", dict, "an object")
    _optional(body, "output_config", dict, "an object")
    stops = body.get("stop_sequences")
    if stops is not None and (
        not isinstance(stops, list) or not all(isinstance(s, str) for s in stops)
    ):
        raise _type_error("stop_sequences", "an array of strings")
    system = body.get("system")
    if isinstance(system, list):
        _check_blocks(system, "system")
    elif system is not None and not isinstance(system, str):
        raise _type_error("system", "a string or an array of text blocks")
    _check_anthropic_tools(body)
    return model
