"""A fake Gemini API server, scripted by `control.py`.

`POST /{v1beta|v1}/models/{model}:{generateContent|streamGenerateContent|embedContent|
batchEmbedContents}`; auth by `x-goog-api-key` or `?key=`. Streams (`alt=sse`) frame
events with CRLF CRLF and end by closing the body: there is no sentinel.
"""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web

from tests.fakes.control import FakeControl, Scenario, fake_vector, split_text
from tests.fakes.server import (
    add_control_routes,
    error_headers,
    json_response,
    read_json,
    resolve,
    start_sse,
    write_stream,
)

_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    402: "RESOURCE_EXHAUSTED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    499: "CANCELLED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}
_FINISH = {"length": "MAX_TOKENS", "content_filter": "SAFETY"}


def error_body(status: int, message: str | None = None, code: str | None = None) -> dict:
    return {
        "error": {
            "code": status,
            "message": message or f"Fake upstream error {status}",
            "status": code or _STATUS.get(status, "INTERNAL" if status >= 500 else "UNKNOWN"),
        }
    }


def usage_metadata(scenario: Scenario) -> dict[str, Any]:
    completion = scenario.completion()
    meta = {
        "promptTokenCount": scenario.prompt_tokens,
        "candidatesTokenCount": completion - scenario.reasoning_tokens,
        "totalTokenCount": scenario.prompt_tokens + completion,
    }
    if scenario.cached_tokens:
        meta["cachedContentTokenCount"] = scenario.cached_tokens
    if scenario.reasoning_tokens:
        meta["thoughtsTokenCount"] = scenario.reasoning_tokens
    return scenario.merged_usage(meta)


def _fragment(model: str, parts: list[dict[str, Any]], extra: dict[str, Any]) -> dict[str, Any]:
    candidate = {"content": {"role": "model", "parts": parts}, "index": 0, **extra}
    return {"candidates": [candidate], "modelVersion": model, "responseId": "fake-r1"}


def _call_parts(scenario: Scenario) -> list[dict[str, Any]]:
    return [
        {"functionCall": {"name": c["name"], "args": c["arguments"]}} for c in scenario.tool_calls
    ]


def generate(model: str, scenario: Scenario) -> dict[str, Any]:
    parts = ([{"text": scenario.text}] if scenario.text else []) + _call_parts(scenario)
    finish = _FINISH.get(scenario.finish_reason or "", "STOP")
    response = _fragment(model, parts, {"finishReason": finish})
    if scenario.usage:
        response["usageMetadata"] = usage_metadata(scenario)
    return response


def stream_fragments(model: str, scenario: Scenario) -> list[tuple[dict[str, Any], bool]]:
    fragments: list[tuple[dict[str, Any], bool]] = []
    partial = {
        "promptTokenCount": scenario.prompt_tokens,
        "totalTokenCount": scenario.prompt_tokens,
    }
    for piece in split_text(scenario.text, scenario.chunks):
        fragments.append((_fragment(model, [{"text": piece}], {}), True))
    for part in _call_parts(scenario):
        fragments.append((_fragment(model, [part], {}), True))
    finish = _FINISH.get(scenario.finish_reason or "", "STOP")
    fragments.append((_fragment(model, [{"text": ""}], {"finishReason": finish}), False))
    if scenario.usage:
        for fragment, _ in fragments[:-1]:
            fragment["usageMetadata"] = partial
        fragments[-1][0]["usageMetadata"] = usage_metadata(scenario)
    return fragments


def _sse(data: dict[str, Any]) -> bytes:
    return b"data: " + orjson.dumps(data) + b"\r\n\r\n"


def create_app(control: FakeControl) -> web.Application:
    async def dispatch(request: web.Request) -> web.StreamResponse:
        model, _, action = request.match_info["target"].partition(":")
        body = await read_json(request)
        if not isinstance(body, dict):
            return json_response(error_body(400, "Invalid JSON payload received."), 400)
        control.log(request.method, request.path, request.query, request.headers, body)
        if not (request.headers.get("x-goog-api-key") or request.query.get("key")):
            return json_response(error_body(403, "Method doesn't allow unregistered callers"), 403)
        scenario = await resolve(control, request, model)
        if isinstance(scenario, web.Response):
            return scenario
        if scenario.status >= 400:
            payload = error_body(scenario.status, scenario.error_message, scenario.error_code)
            return json_response(payload, scenario.status, error_headers(scenario))
        if action == "generateContent":
            return json_response(generate(model, scenario))
        if action == "streamGenerateContent":
            fragments = stream_fragments(model, scenario)
            if request.query.get("alt") != "sse":
                return json_response([fragment for fragment, _ in fragments])
            response = await start_sse(request)
            events = [(_sse(fragment), content) for fragment, content in fragments]
            error = _sse(error_body(500, "Internal error encountered."))
            return await write_stream(request, response, events, scenario, error_event=error)
        if action == "embedContent":
            dims = body.get("outputDimensionality") or scenario.dimensions
            text = "".join(p.get("text", "") for p in (body.get("content") or {}).get("parts", []))
            return json_response({"embedding": {"values": fake_vector(text, dims)}})
        if action == "batchEmbedContents":
            embeddings = []
            for item in body.get("requests") or ():
                dims = item.get("outputDimensionality") or scenario.dimensions
                parts = (item.get("content") or {}).get("parts", [])
                text = "".join(p.get("text", "") for p in parts)
                embeddings.append({"values": fake_vector(text, dims)})
            return json_response({"embeddings": embeddings})
        return json_response(error_body(404, f"Unknown method {action}"), 404)

    app = web.Application()
    app.router.add_post("/{version:v1beta|v1}/models/{target}", dispatch)
    add_control_routes(app, control)
    return app
