"""Plumbing shared by the fake servers: JSON in/out, SSE writing, scripted failures."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import orjson
from aiohttp import web

from tests.fakes.control import FakeControl, Scenario

SSE_HEADERS = {"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}


def json_response(
    data: Any, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    return web.Response(
        body=orjson.dumps(data), status=status, headers=headers, content_type="application/json"
    )


async def read_json(request: web.Request) -> Any:
    raw = await request.read()
    try:
        return orjson.loads(raw) if raw else None
    except orjson.JSONDecodeError:
        return None


def error_headers(scenario: Scenario) -> dict[str, str]:
    # x-should-retry: false keeps SDK clients in tests from retrying on their own.
    headers = {"x-should-retry": "false"}
    if scenario.retry_after is not None:
        headers["retry-after"] = scenario.retry_after
    if scenario.retry_after_ms is not None:
        headers["retry-after-ms"] = str(scenario.retry_after_ms)
    return headers


async def start_sse(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(headers=SSE_HEADERS)
    await response.prepare(request)
    return response


async def write_stream(
    request: web.Request,
    response: web.StreamResponse,
    events: list[tuple[bytes, bool]],
    scenario: Scenario,
    *,
    error_event: bytes,
    terminator: bytes = b"",
) -> web.StreamResponse:
    """Write `(payload, is_content)` events, then the terminator, as scripted.

    `cut_after` N drops the TCP connection after the Nth content event (or just before the
    terminator when there are fewer); `stream_error_after` N sends `error_event` instead
    of the (N+1)th content event and ends the body without a terminator.
    """
    sent = 0
    for payload, is_content in events:
        if is_content:
            if scenario.stream_error_after is not None and sent >= scenario.stream_error_after:
                await response.write(error_event)
                return response
            if scenario.chunk_delay:
                await asyncio.sleep(scenario.chunk_delay)
        await response.write(payload)
        if is_content:
            sent += 1
            if scenario.cut_after is not None and sent >= scenario.cut_after:
                return cut(request, response)
    if scenario.cut_after is not None:
        return cut(request, response)
    if scenario.stream_error_after is not None:
        await response.write(error_event)
        return response
    if terminator:
        await response.write(terminator)
    return response


def cut(request: web.Request, response: web.StreamResponse) -> web.StreamResponse:
    # Abort: the chunked body never terminates, exactly like a dropped upstream.
    if request.transport is not None:
        request.transport.abort()
    return response


def add_control_routes(app: web.Application, control: FakeControl) -> None:
    """HTTP access to the control, for a fake running as a separate process."""

    async def script(request: web.Request) -> web.Response:
        body = await read_json(request)
        items = body if isinstance(body, list) else [body or {}]
        control.script(*items)
        return json_response({"queued": len(control.queue)})

    async def default(request: web.Request) -> web.Response:
        control.set_default(**(await read_json(request) or {}))
        return json_response({"ok": True})

    async def reset(request: web.Request) -> web.Response:
        control.reset()
        return json_response({"ok": True})

    async def requests(request: web.Request) -> web.Response:
        return json_response([dataclasses.asdict(r) for r in control.requests])

    app.router.add_post("/__fake__/script", script)
    app.router.add_post("/__fake__/default", default)
    app.router.add_post("/__fake__/reset", reset)
    app.router.add_get("/__fake__/requests", requests)


async def resolve(
    control: FakeControl, request: web.Request, model: str
) -> Scenario | web.Response:
    """Pick the scenario; a malformed override is answered with a plain 400."""
    try:
        scenario = control.resolve(model, request.headers)
    except (ValueError, TypeError) as exc:
        return json_response({"error": {"message": f"bad fake scenario: {exc}"}}, status=400)
    if scenario.delay:
        await asyncio.sleep(scenario.delay)
    return scenario
