"""A fake OpenAI (Chat Completions, Embeddings, Models) server, scripted by `control.py`.

Built for speed as well as tests: the benchmark drives thousands of requests per second
through it, so the default path is one orjson load, one dict and one orjson dump.
"""

from __future__ import annotations

import base64
import struct
import time
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

MODELS = ("gpt-4o", "gpt-4o-mini", "text-embedding-3-small")
_ERROR_TYPES = {
    400: ("invalid_request_error", None),
    401: ("invalid_request_error", "invalid_api_key"),
    403: ("invalid_request_error", "unsupported_country_region_territory"),
    404: ("invalid_request_error", "model_not_found"),
    429: ("requests", "rate_limit_exceeded"),
}


def error_body(scenario: Scenario) -> dict[str, Any]:
    status = scenario.status
    error_type, code = _ERROR_TYPES.get(status, ("server_error", None))
    if scenario.error_code:
        error_type = code = scenario.error_code
    message = scenario.error_message or f"Fake upstream error {status}"
    return {"error": {"message": message, "type": error_type, "param": None, "code": code}}


def usage(scenario: Scenario) -> dict[str, Any]:
    completion = scenario.completion()
    return scenario.merged_usage(
        {
            "prompt_tokens": scenario.prompt_tokens,
            "completion_tokens": completion,
            "total_tokens": scenario.prompt_tokens + completion,
            "prompt_tokens_details": {"cached_tokens": scenario.cached_tokens},
            "completion_tokens_details": {"reasoning_tokens": scenario.reasoning_tokens},
        }
    )


def _calls(scenario: Scenario) -> list[dict[str, Any]]:
    return [
        {
            "id": f"call_fake{i}",
            "type": "function",
            "function": {"name": c["name"], "arguments": orjson.dumps(c["arguments"]).decode()},
        }
        for i, c in enumerate(scenario.tool_calls)
    ]


def _finish(scenario: Scenario) -> str:
    return scenario.finish_reason or ("tool_calls" if scenario.tool_calls else "stop")


def completion(body: dict[str, Any], scenario: Scenario) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": scenario.text or None}
    if scenario.tool_calls:
        message["tool_calls"] = _calls(scenario)
    result = {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model", ""),
        "choices": [
            {"index": 0, "message": message, "logprobs": None, "finish_reason": _finish(scenario)}
        ],
        "system_fingerprint": "fp_fake",
    }
    if scenario.usage:
        result["usage"] = usage(scenario)
    return result


def stream_events(body: dict[str, Any], scenario: Scenario) -> list[tuple[bytes, bool]]:
    head = {
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": body.get("model", ""),
    }

    def event(delta: dict[str, Any], finish: str | None = None) -> bytes:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
        return b"data: " + orjson.dumps({**head, "choices": [choice]}) + b"\n\n"

    events = [(event({"role": "assistant", "content": "", "refusal": None}), False)]
    events += [
        (event({"content": piece}), True) for piece in split_text(scenario.text, scenario.chunks)
    ]
    for index, call in enumerate(_calls(scenario)):
        arguments = call["function"]["arguments"]
        first = {
            **call,
            "index": index,
            "function": {"name": call["function"]["name"], "arguments": ""},
        }
        events.append((event({"tool_calls": [first]}), True))
        for piece in split_text(arguments, 2):
            fragment = {"index": index, "function": {"arguments": piece}}
            events.append((event({"tool_calls": [fragment]}), True))
    events.append((event({}, _finish(scenario)), False))
    include = (body.get("stream_options") or {}).get("include_usage")
    if include and scenario.usage:
        chunk = {**head, "choices": [], "usage": usage(scenario)}
        events.append((b"data: " + orjson.dumps(chunk) + b"\n\n", False))
    return events


def _embedding(text: str, dimensions: int, as_base64: bool) -> Any:
    vector = fake_vector(text, dimensions)
    if as_base64:
        return base64.b64encode(struct.pack(f"<{dimensions}f", *vector)).decode()
    return vector


def create_app(control: FakeControl) -> web.Application:
    async def chat(request: web.Request) -> web.StreamResponse:
        body = await read_json(request)
        if not isinstance(body, dict):
            return json_response(error_body(Scenario(status=400, error_message="bad JSON")), 400)
        control.log(request.method, request.path, request.query, request.headers, body)
        scenario = await resolve(control, request, str(body.get("model") or ""))
        if isinstance(scenario, web.Response):
            return scenario
        if scenario.status >= 400:
            return json_response(error_body(scenario), scenario.status, error_headers(scenario))
        if not body.get("stream"):
            return json_response(completion(body, scenario))
        response = await start_sse(request)
        error = b"data: " + orjson.dumps(error_body(Scenario(status=500))) + b"\n\n"
        return await write_stream(
            request,
            response,
            stream_events(body, scenario),
            scenario,
            error_event=error,
            terminator=b"data: [DONE]\n\n",
        )

    async def embeddings(request: web.Request) -> web.Response:
        body = await read_json(request)
        if not isinstance(body, dict):
            return json_response(error_body(Scenario(status=400, error_message="bad JSON")), 400)
        control.log(request.method, request.path, request.query, request.headers, body)
        scenario = await resolve(control, request, str(body.get("model") or ""))
        if isinstance(scenario, web.Response):
            return scenario
        if scenario.status >= 400:
            return json_response(error_body(scenario), scenario.status, error_headers(scenario))
        inputs = body.get("input")
        texts = [inputs] if isinstance(inputs, str) else [str(item) for item in inputs or ()]
        dimensions = body.get("dimensions") or scenario.dimensions
        as_base64 = body.get("encoding_format") == "base64"
        data = [
            {"object": "embedding", "index": i, "embedding": _embedding(t, dimensions, as_base64)}
            for i, t in enumerate(texts)
        ]
        tokens = sum((len(t.encode()) + 3) // 4 for t in texts)
        return json_response(
            {
                "object": "list",
                "data": data,
                "model": body.get("model", ""),
                "usage": scenario.merged_usage({"prompt_tokens": tokens, "total_tokens": tokens}),
            }
        )

    async def models(request: web.Request) -> web.Response:
        control.log(request.method, request.path, request.query, request.headers, None)
        data = [
            {"id": m, "object": "model", "created": 1686935002, "owned_by": "openai"}
            for m in MODELS
        ]
        return json_response({"object": "list", "data": data})

    app = web.Application()
    app.router.add_post("/v1/chat/completions", chat)
    app.router.add_post("/v1/embeddings", embeddings)
    app.router.add_get("/v1/models", models)
    add_control_routes(app, control)
    return app
