"""A fake Anthropic Messages server (`POST /v1/messages`), scripted by `control.py`.

Named-event SSE with a `ping`, cumulative `message_delta` usage and `message_stop`; it
accepts `x-api-key` or `Authorization: Bearer` and both API versions, and (like the real
API) rejects a body without `max_tokens`.
"""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web

from tests.fakes.control import FakeControl, Scenario, split_text
from tests.fakes.server import (
    add_control_routes,
    error_headers,
    json_response,
    read_json,
    resolve,
    start_sse,
    write_stream,
)

_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    409: "conflict_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    504: "timeout_error",
    529: "overloaded_error",
}
_STOP = {"length": "max_tokens", "tool_calls": "tool_use", "content_filter": "refusal"}


def error_body(status: int, message: str | None = None, error_type: str | None = None) -> dict:
    default = "api_error" if status >= 500 else "invalid_request_error"
    return {
        "type": "error",
        "error": {
            "type": error_type or _ERROR_TYPES.get(status, default),
            "message": message or f"Fake upstream error {status}",
        },
        "request_id": "req_fake",
    }


def stop_reason(scenario: Scenario) -> str:
    if scenario.finish_reason:
        return _STOP.get(scenario.finish_reason, "end_turn")
    return "tool_use" if scenario.tool_calls else "end_turn"


def usage(scenario: Scenario) -> dict[str, Any]:
    reads, writes = scenario.cached_tokens, scenario.cache_write_tokens
    return scenario.merged_usage(
        {
            "input_tokens": scenario.prompt_tokens - reads - writes,
            "output_tokens": scenario.completion(),
            "cache_creation_input_tokens": writes,
            "cache_read_input_tokens": reads,
        }
    )


def message(body: dict[str, Any], scenario: Scenario) -> dict[str, Any]:
    content: list[dict[str, Any]] = []
    if scenario.text:
        content.append({"type": "text", "text": scenario.text})
    for i, call in enumerate(scenario.tool_calls):
        content.append(
            {
                "type": "tool_use",
                "id": f"toolu_fake{i}",
                "name": call["name"],
                "input": call["arguments"],
            }
        )
    result = {
        "id": "msg_fake",
        "type": "message",
        "role": "assistant",
        "content": content,
        "model": body.get("model", ""),
        "stop_reason": stop_reason(scenario),
        "stop_sequence": None,
    }
    if scenario.usage:
        result["usage"] = usage(scenario)
    return result


def _event(name: str, data: dict[str, Any]) -> bytes:
    return b"event: " + name.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"


def stream_events(body: dict[str, Any], scenario: Scenario) -> list[tuple[bytes, bool]]:
    start = {**message(body, scenario), "content": [], "stop_reason": None}
    if scenario.usage:
        start["usage"] = {**usage(scenario), "output_tokens": 1}
    events = [
        (_event("message_start", {"type": "message_start", "message": start}), False),
        (_event("ping", {"type": "ping"}), False),
    ]
    index = 0
    pieces = split_text(scenario.text, scenario.chunks)
    if pieces:
        block = {"type": "text", "text": ""}
        events.append(
            (
                _event(
                    "content_block_start",
                    {"type": "content_block_start", "index": 0, "content_block": block},
                ),
                False,
            )
        )
        for piece in pieces:
            delta = {"type": "text_delta", "text": piece}
            data = {"type": "content_block_delta", "index": 0, "delta": delta}
            events.append((_event("content_block_delta", data), True))
        events.append(
            (_event("content_block_stop", {"type": "content_block_stop", "index": 0}), False)
        )
        index = 1
    for i, call in enumerate(scenario.tool_calls):
        block = {"type": "tool_use", "id": f"toolu_fake{i}", "name": call["name"], "input": {}}
        data = {"type": "content_block_start", "index": index, "content_block": block}
        events.append((_event("content_block_start", data), True))
        for piece in split_text(orjson.dumps(call["arguments"]).decode(), 2):
            delta = {"type": "input_json_delta", "partial_json": piece}
            data = {"type": "content_block_delta", "index": index, "delta": delta}
            events.append((_event("content_block_delta", data), True))
        stop = {"type": "content_block_stop", "index": index}
        events.append((_event("content_block_stop", stop), False))
        index += 1
    final: dict[str, Any] = {
        "type": "message_delta",
        "delta": {"stop_reason": stop_reason(scenario), "stop_sequence": None},
    }
    if scenario.usage:
        final["usage"] = scenario.merged_usage({"output_tokens": scenario.completion()})
    events.append((_event("message_delta", final), False))
    events.append((_event("message_stop", {"type": "message_stop"}), False))
    return events


def create_app(control: FakeControl) -> web.Application:
    async def messages(request: web.Request) -> web.StreamResponse:
        body = await read_json(request)
        if not isinstance(body, dict):
            return json_response(error_body(400, "bad JSON"), 400)
        control.log(request.method, request.path, request.query, request.headers, body)
        if "max_tokens" not in body:
            return json_response(error_body(400, "max_tokens: Field required"), 400)
        scenario = await resolve(control, request, str(body.get("model") or ""))
        if isinstance(scenario, web.Response):
            return scenario
        if scenario.status >= 400:
            payload = error_body(scenario.status, scenario.error_message, scenario.error_code)
            return json_response(payload, scenario.status, error_headers(scenario))
        if not body.get("stream"):
            return json_response(message(body, scenario))
        response = await start_sse(request)
        error = _event("error", error_body(529, "Overloaded"))
        return await write_stream(
            request, response, stream_events(body, scenario), scenario, error_event=error
        )

    app = web.Application()
    app.router.add_post("/v1/messages", messages)
    add_control_routes(app, control)
    return app
