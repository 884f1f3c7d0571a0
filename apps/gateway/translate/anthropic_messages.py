"""OpenAI Chat Completions ↔ Anthropic Messages: requests, responses, reasons and usage.

Streams are in `anthropic_stream.py`. Usage conventions differ: Anthropic's
`input_tokens` excludes cache reads and writes, OpenAI's `prompt_tokens` includes them.
"""

from __future__ import annotations

from typing import Any

from apps.gateway.providers.usage import combine
from apps.gateway.translate.common import (
    TranslationError,
    content_text,
    data_uri,
    dumps_str,
    loads_object,
    max_output_tokens,
    openai_usage,
    parse_data_uri,
    stop_list,
)

DEFAULT_MAX_TOKENS = 4096
LEGACY_VERSION = "2023-06-01"  # the last version that still accepts sampling parameters

TO_OPENAI_FINISH = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "pause_turn": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}
TO_ANTHROPIC_STOP = {
    "stop": "end_turn",
    "length": "max_tokens",
    "tool_calls": "tool_use",
    "function_call": "tool_use",
    "content_filter": "refusal",
}
JSON_OBJECT_HINT = "Reply with a single valid JSON object and nothing else."


def openai_finish_reason(stop_reason: str | None) -> str | None:
    if stop_reason is None:
        return None
    return TO_OPENAI_FINISH.get(stop_reason, "stop")


def anthropic_stop_reason(finish_reason: str | None) -> str | None:
    if finish_reason is None:
        return None
    return TO_ANTHROPIC_STOP.get(finish_reason, "end_turn")


# -- usage -----------------------------------------------------------------------------


def anthropic_usage_to_openai(usage: dict[str, Any]) -> dict[str, Any]:
    # Cache counts are optional (absent or null: none); input and output are required.
    cache_read = usage.get("cache_read_input_tokens") or 0
    cache_write = usage.get("cache_creation_input_tokens") or 0
    input_tokens = usage.get("input_tokens")
    prompt = None if input_tokens is None else combine(input_tokens, cache_read, cache_write)
    return openai_usage(
        prompt, usage.get("output_tokens"), cached=cache_read, cache_write=cache_write
    )


def _usage_of(response: dict[str, Any]) -> Any:
    usage = response.get("usage")
    return anthropic_usage_to_openai(usage) if isinstance(usage, dict) else None


def openai_usage_to_anthropic(usage: dict[str, Any] | None) -> dict[str, Any]:
    usage = usage or {}
    details = usage.get("prompt_tokens_details") or {}
    cached = details.get("cached_tokens") or 0
    cache_write = details.get("cache_write_tokens") or 0
    return {
        "input_tokens": max(0, (usage.get("prompt_tokens") or 0) - cached - cache_write),
        "output_tokens": usage.get("completion_tokens") or 0,
        "cache_creation_input_tokens": cache_write,
        "cache_read_input_tokens": cached,
    }


# -- OpenAI request → Anthropic request ------------------------------------------------


def _image_block(part: dict[str, Any]) -> dict[str, Any]:
    image = part.get("image_url")
    url = image.get("url") if isinstance(image, dict) else image
    if not isinstance(url, str) or not url:
        raise TranslationError("image_url part without a url")
    parsed = parse_data_uri(url)
    if parsed:
        return {
            "type": "image",
            "source": {"type": "base64", "media_type": parsed[0], "data": parsed[1]},
        }
    return {"type": "image", "source": {"type": "url", "url": url}}


def _file_block(part: dict[str, Any]) -> dict[str, Any]:
    file = part.get("file") or {}
    parsed = parse_data_uri(file.get("file_data") or "")
    if not parsed:
        raise TranslationError("only inline (data URI) files can be sent to anthropic")
    return {
        "type": "document",
        "source": {"type": "base64", "media_type": parsed[0], "data": parsed[1]},
    }


def _user_blocks(content: Any) -> list[dict[str, Any]]:
    if content is None:
        return []
    if isinstance(content, str):
        return [{"type": "text", "text": content}] if content else []
    blocks: list[dict[str, Any]] = []
    for part in content:
        kind = part.get("type")
        if kind == "text":
            if part.get("text"):
                block: dict[str, Any] = {"type": "text", "text": part["text"]}
                if "cache_control" in part:
                    block["cache_control"] = part["cache_control"]
                blocks.append(block)
        elif kind == "image_url":
            blocks.append(_image_block(part))
        elif kind == "file":
            blocks.append(_file_block(part))
        else:
            raise TranslationError(f"content part type {kind!r} is not supported by anthropic")
    return blocks


def _tool_result_content(content: Any) -> Any:
    if content is None or isinstance(content, str):
        return content or ""
    return _user_blocks(content)


def _tools(tools: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for tool in tools:
        if tool.get("type") != "function":
            continue
        function = tool.get("function") or {}
        entry: dict[str, Any] = {
            "name": function.get("name"),
            "input_schema": function.get("parameters") or {"type": "object", "properties": {}},
        }
        if function.get("description"):
            entry["description"] = function["description"]
        if "cache_control" in tool:
            entry["cache_control"] = tool["cache_control"]
        out.append(entry)
    return out


def _tool_choice(choice: Any, parallel: Any) -> dict[str, Any] | None:
    if choice is None:
        result: dict[str, Any] | None = None
    elif choice == "none":
        return {"type": "none"}
    elif choice == "auto":
        result = {"type": "auto"}
    elif choice == "required":
        result = {"type": "any"}
    elif isinstance(choice, dict) and choice.get("type") == "function":
        result = {"type": "tool", "name": (choice.get("function") or {}).get("name")}
    else:
        result = {"type": "auto"}
    if parallel is False:
        result = result or {"type": "auto"}
        result["disable_parallel_tool_use"] = True
    return result


def openai_to_anthropic_request(
    request: dict[str, Any],
    *,
    model: str | None = None,
    default_max_tokens: int = DEFAULT_MAX_TOKENS,
    anthropic_version: str = LEGACY_VERSION,
) -> dict[str, Any]:
    """Build an Anthropic Messages body from an OpenAI chat request.

    System and developer messages (anywhere) become the top-level `system`; tool results
    become `tool_result` blocks merged into one user turn, as Anthropic requires.
    """
    system: list[dict[str, Any]] = []
    messages: list[dict[str, Any]] = []

    def push(role: str, blocks: list[dict[str, Any]]) -> None:
        if messages and messages[-1]["role"] == role:
            messages[-1]["content"].extend(blocks)
        else:
            messages.append({"role": role, "content": blocks})

    for message in request.get("messages") or ():
        role = message.get("role")
        content = message.get("content")
        if role in ("system", "developer"):
            system.extend(_user_blocks(content))
        elif role == "user":
            blocks = _user_blocks(content)
            if blocks:
                push("user", blocks)
        elif role == "assistant":
            blocks = []
            text = content_text(content)
            if text:
                blocks.append({"type": "text", "text": text})
            for call in message.get("tool_calls") or ():
                function = call.get("function") or {}
                blocks.append(
                    {
                        "type": "tool_use",
                        "id": call.get("id"),
                        "name": function.get("name"),
                        "input": loads_object(function.get("arguments")),
                    }
                )
            if blocks:
                push("assistant", blocks)
        elif role == "tool":
            result = {
                "type": "tool_result",
                "tool_use_id": message.get("tool_call_id"),
                "content": _tool_result_content(content),
            }
            push("user", [result])
        else:
            raise TranslationError(f"message role {role!r} is not supported by anthropic")

    body: dict[str, Any] = {
        "model": model or request.get("model"),
        "max_tokens": max_output_tokens(request) or default_max_tokens,
        "messages": messages,
    }
    response_format = request.get("response_format") or {}
    if response_format.get("type") == "json_object":
        system.append({"type": "text", "text": JSON_OBJECT_HINT})
    elif response_format.get("type") == "json_schema":
        schema = (response_format.get("json_schema") or {}).get("schema") or {}
        body["output_config"] = {"format": {"type": "json_schema", "schema": schema}}
    if system:
        if any("cache_control" in block for block in system):
            body["system"] = system
        else:
            body["system"] = "\n\n".join(block["text"] for block in system)
    tools = _tools(request.get("tools") or [])
    if tools:
        body["tools"] = tools
        choice = _tool_choice(request.get("tool_choice"), request.get("parallel_tool_calls"))
        if choice:
            body["tool_choice"] = choice
    stops = stop_list(request.get("stop"))
    if stops:
        body["stop_sequences"] = stops
    if anthropic_version == LEGACY_VERSION:
        # Anthropic's range is 0-1 and newer models refuse temperature and top_p together.
        temperature = request.get("temperature")
        if temperature is not None:
            body["temperature"] = min(max(float(temperature), 0.0), 1.0)
        elif request.get("top_p") is not None:
            body["top_p"] = request["top_p"]
    user = request.get("user") or request.get("safety_identifier")
    if isinstance(user, str) and user:
        body["metadata"] = {"user_id": user}
    if request.get("stream"):
        body["stream"] = True
    return body


# -- Anthropic request → OpenAI request (the gateway's own /v1/messages) ----------------


def _openai_parts(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    parts: list[dict[str, Any]] = []
    for block in blocks:
        kind = block.get("type")
        if kind == "text":
            part: dict[str, Any] = {"type": "text", "text": block.get("text", "")}
            if "cache_control" in block:
                part["cache_control"] = block["cache_control"]
            parts.append(part)
        elif kind in ("image", "document"):
            source = block.get("source") or {}
            if source.get("type") == "base64":
                url = data_uri(source.get("media_type", ""), source.get("data", ""))
            elif source.get("type") == "url":
                url = source.get("url", "")
            else:
                raise TranslationError(f"{kind} source {source.get('type')!r} is not supported")
            if kind == "image":
                parts.append({"type": "image_url", "image_url": {"url": url}})
            else:
                parts.append({"type": "file", "file": {"file_data": url}})
        elif kind in ("thinking", "redacted_thinking"):
            continue  # provider-signed reasoning means nothing to another provider
        else:
            raise TranslationError(f"content block type {kind!r} is not supported")
    return parts


def _collapse(parts: list[dict[str, Any]]) -> str | list[dict[str, Any]]:
    if len(parts) == 1 and parts[0]["type"] == "text" and "cache_control" not in parts[0]:
        return parts[0]["text"]
    return parts


def _system_message(system: Any) -> dict[str, Any] | None:
    if not system:
        return None
    if isinstance(system, str):
        return {"role": "system", "content": system}
    return {"role": "system", "content": _collapse(_openai_parts(system))}


def anthropic_to_openai_request(body: dict[str, Any]) -> dict[str, Any]:
    """Build an OpenAI chat request from an Anthropic Messages body."""
    messages: list[dict[str, Any]] = []
    system = _system_message(body.get("system"))
    if system:
        messages.append(system)
    for message in body.get("messages") or ():
        role = message.get("role")
        content = message.get("content")
        if role == "system":
            entry = _system_message(content)
            if entry:
                messages.append(entry)
            continue
        if isinstance(content, str):
            messages.append({"role": role, "content": content})
            continue
        blocks = content or []
        if role == "assistant":
            text = "".join(b.get("text", "") for b in blocks if b.get("type") == "text")
            calls = [
                {
                    "id": b.get("id"),
                    "type": "function",
                    "function": {
                        "name": b.get("name"),
                        "arguments": dumps_str(b.get("input") or {}),
                    },
                }
                for b in blocks
                if b.get("type") == "tool_use"
            ]
            entry = {"role": "assistant", "content": text or None}
            if calls:
                entry["tool_calls"] = calls
            messages.append(entry)
            continue
        others = []
        for block in blocks:
            if block.get("type") == "tool_result":
                result = block.get("content")
                if isinstance(result, list):
                    result = content_text(_openai_parts(result))
                messages.append(
                    {
                        "role": "tool",
                        "tool_call_id": block.get("tool_use_id"),
                        "content": result or "",
                    }
                )
            else:
                others.append(block)
        if others:
            messages.append({"role": "user", "content": _collapse(_openai_parts(others))})

    request: dict[str, Any] = {"model": body.get("model"), "messages": messages}
    if body.get("max_tokens") is not None:
        request["max_completion_tokens"] = body["max_tokens"]
    for name in ("temperature", "top_p"):
        if body.get(name) is not None:
            request[name] = body[name]
    if body.get("stop_sequences"):
        request["stop"] = body["stop_sequences"]
    tools = [
        {
            "type": "function",
            "function": {
                "name": t.get("name"),
                **({"description": t["description"]} if t.get("description") else {}),
                "parameters": t.get("input_schema") or {"type": "object", "properties": {}},
            },
        }
        for t in body.get("tools") or ()
        if t.get("type") in (None, "custom")  # server tools only exist at Anthropic
    ]
    if tools:
        request["tools"] = tools
        choice = body.get("tool_choice") or {}
        kind = choice.get("type")
        if kind == "any":
            request["tool_choice"] = "required"
        elif kind == "none":
            request["tool_choice"] = "none"
        elif kind == "tool":
            request["tool_choice"] = {"type": "function", "function": {"name": choice.get("name")}}
        elif kind == "auto":
            request["tool_choice"] = "auto"
        if choice.get("disable_parallel_tool_use"):
            request["parallel_tool_calls"] = False
    fmt = (body.get("output_config") or {}).get("format") or {}
    if fmt.get("type") == "json_schema":
        request["response_format"] = {
            "type": "json_schema",
            "json_schema": {"name": "response", "schema": fmt.get("schema") or {}},
        }
    user = (body.get("metadata") or {}).get("user_id")
    if user:
        request["user"] = user
    if body.get("stream"):
        request["stream"] = True
        request["stream_options"] = {"include_usage": True}
    return request


# -- responses -------------------------------------------------------------------------


def anthropic_to_openai_response(
    response: dict[str, Any], *, model: str | None = None, created: int = 0
) -> dict[str, Any]:
    texts: list[str] = []
    reasoning: list[str] = []
    calls: list[dict[str, Any]] = []
    for block in response.get("content") or ():
        kind = block.get("type")
        if kind == "text":
            texts.append(block.get("text", ""))
        elif kind == "thinking":
            reasoning.append(block.get("thinking", ""))
        elif kind == "tool_use":
            calls.append(
                {
                    "id": block.get("id"),
                    "type": "function",
                    "function": {
                        "name": block.get("name"),
                        "arguments": dumps_str(block.get("input") or {}),
                    },
                }
            )
    message: dict[str, Any] = {"role": "assistant", "content": "".join(texts) or None}
    if not calls and message["content"] is None:
        message["content"] = ""
    if calls:
        message["tool_calls"] = calls
    if reasoning:
        message["reasoning_content"] = "".join(reasoning)
    return {
        "id": response.get("id") or "",
        "object": "chat.completion",
        "created": created,
        "model": model or response.get("model") or "",
        "choices": [
            {
                "index": 0,
                "message": message,
                "logprobs": None,
                "finish_reason": openai_finish_reason(response.get("stop_reason")) or "stop",
            }
        ],
        "usage": _usage_of(response),
    }


def openai_to_anthropic_response(
    response: dict[str, Any], *, model: str | None = None
) -> dict[str, Any]:
    choices = response.get("choices") or [{}]
    choice = choices[0]
    message = choice.get("message") or {}
    blocks: list[dict[str, Any]] = []
    text = content_text(message.get("content")) or message.get("refusal") or ""
    if text:
        blocks.append({"type": "text", "text": text})
    for call in message.get("tool_calls") or ():
        function = call.get("function") or {}
        blocks.append(
            {
                "type": "tool_use",
                "id": call.get("id"),
                "name": function.get("name"),
                "input": loads_object(function.get("arguments")),
            }
        )
    response_id = str(response.get("id") or "")
    if not response_id.startswith("msg_"):
        response_id = "msg_" + response_id.removeprefix("chatcmpl-")
    return {
        "id": response_id,
        "type": "message",
        "role": "assistant",
        "content": blocks,
        "model": model or response.get("model") or "",
        "stop_reason": anthropic_stop_reason(choice.get("finish_reason")) or "end_turn",
        "stop_sequence": None,
        "usage": openai_usage_to_anthropic(response.get("usage")),
    }
