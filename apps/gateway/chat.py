"""Chat: `POST /v1/chat/completions` (OpenAI) and `POST /v1/messages` (Anthropic).

Both run the same workflow on an OpenAI-shaped request; /v1/messages translates its
request in and the answer (or stream) back out, so it can route to any provider.
"""

from __future__ import annotations

import asyncio
import logging
from decimal import Decimal
from typing import Any

import orjson
from django.http import HttpResponse, StreamingHttpResponse

from apps.gateway import accounting
from apps.gateway.catalog_cache import RouteInfo
from apps.gateway.errors import bad_request, from_upstream
from apps.gateway.providers.base import ChatResult, ChatStream, UpstreamTarget, Usage
from apps.gateway.providers.media import family
from apps.gateway.providers.registry import get_adapter
from apps.gateway.providers.tokens import measure_prompt
from apps.gateway.routing import AllTargetsFailed, Attempts, attempt
from apps.gateway.service import (
    COST,
    COST_RESERVED,
    Admission,
    Call,
    admit,
    cost_header,
    reserve,
)
from apps.gateway.sessions import SESSIONS
from apps.gateway.streaming import RelayBody, StreamRelay
from apps.gateway.translate.anthropic_messages import (
    LEGACY_VERSION,
    anthropic_to_openai_request,
    openai_to_anthropic_response,
)
from apps.gateway.translate.common import TranslationError, max_output_tokens
from apps.gateway.validation import validate_chat, validate_messages

SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}

log = logging.getLogger("cloudfreedom.gateway.chat")


def note_rejected_usage(call: Call, attempts: Attempts, usage: Usage) -> None:
    """Warn when an upstream reported garbage usage (billed from the gateway's estimate)."""
    if usage.rejected:
        target = attempts.target
        log.warning(
            "upstream_usage_rejected request_id=%s provider=%s upstream_model=%s reason=%s",
            call.ctx.request_id,
            target.provider_name if target else "",
            target.upstream_model if target else "",
            usage.rejected,
        )


def families_of(route: RouteInfo) -> tuple[str, ...]:
    """The provider families a request may reach, the first target's first: its media
    rule makes the estimate, the dearest of all makes the bound."""
    seen: list[str] = []
    for target in route.targets:
        name = family(target.provider_kind)
        if name not in seen:
            seen.append(name)
    return tuple(seen) or ("openai",)


async def chat_completions(call: Call) -> HttpResponse:
    body = call.body()
    model = validate_chat(body)
    return await run_chat(call, body, model)


async def messages(call: Call) -> HttpResponse:
    body = call.body()
    version = call.request.headers.get("anthropic-version")
    model = validate_messages(body, version)
    try:
        request = anthropic_to_openai_request(body)
    except TranslationError as exc:
        raise bad_request(str(exc))
    if version is not None and version != LEGACY_VERSION:
        # Newer API versions reject sampling parameters; drop rather than forward them.
        request.pop("temperature", None)
        request.pop("top_p", None)
    return await run_chat(call, request, model)


def _apply_max_output(body: dict[str, Any], limit: int) -> None:
    """Send the reservation's output limit upstream (≤ what the client asked for)."""
    if body.get("max_tokens") is not None:
        body["max_tokens"] = limit
    if body.get("max_completion_tokens") is not None or body.get("max_tokens") is None:
        body["max_completion_tokens"] = limit


def outcome_of(
    model: str,
    attempts: Attempts,
    usage: Usage,
    cost: Decimal,
    *,
    status: str,
    error_type: str = "",
    http_status: int | None = 200,
    ttft_ms: int | None = None,
    streamed: bool = False,
) -> accounting.Outcome:
    target: UpstreamTarget | None = attempts.target
    return accounting.Outcome(
        model=model,
        provider=target.provider_name if target else "",
        upstream_model=target.upstream_model if target else "",
        attempts=len(attempts),
        attempt_log=attempts.log,
        usage=usage,
        cost=cost,
        status=status,
        error_type=error_type,
        http_status=http_status,
        ttft_ms=ttft_ms,
        streamed=streamed,
    )


async def record_failure(
    call: Call,
    adm: Admission,
    model: str,
    attempts: Attempts,
    exc: AllTargetsFailed,
    *,
    stream: bool,
) -> Exception:
    error = from_upstream(exc.last, all_failed=exc.final)
    outcome = outcome_of(
        model,
        attempts,
        Usage(),
        Decimal(0),
        status="error",
        error_type=exc.last.kind,
        http_status=error.status,
        streamed=stream,
    )
    await accounting.record(call.ctx, outcome, adm.reservation)
    return error


async def record_abandoned(
    call: Call, adm: Admission, model: str, attempts: Attempts, estimated: int
) -> None:
    """The client left while the upstream worked (the upstream request is aborted with the
    request's task). The prompt was sent, so it is billed as counted; nothing else is. The
    record is shielded, so awaiting it survives the cancellation in progress."""
    usage = Usage(prompt_tokens=estimated, reported=False)
    cost = accounting.cost_of(adm.price, usage, call.ctx.markup_factor)
    outcome = outcome_of(
        model,
        attempts,
        usage,
        cost,
        status="client_closed",
        error_type="client_closed",
        http_status=None,
    )
    await accounting.record(call.ctx, outcome, adm.reservation)


async def run_chat(call: Call, body: dict[str, Any], model: str) -> HttpResponse:
    route, price = await admit(call, model, "chat")
    stream = bool(body.get("stream"))
    options = body.get("stream_options")
    include_usage = stream and isinstance(options, dict) and bool(options.get("include_usage"))
    estimated, prompt_bound = measure_prompt(body, families_of(route))
    n = body.get("n") or 1
    adm = await reserve(
        call,
        route,
        price,
        model,
        estimated_tokens=estimated,
        prompt_bound=prompt_bound,
        requested_max_output=max_output_tokens(body),
        choices=n,
    )
    _apply_max_output(body, adm.reservation.max_output_tokens)
    session = SESSIONS.get()
    attempts = Attempts()
    if stream:
        return await _stream(call, adm, body, model, include_usage, attempts, session)

    async def one(target: UpstreamTarget) -> ChatResult:
        return await get_adapter(target.provider_kind).chat(session, target, body)

    try:
        result = await attempt(route.targets, route.retries, one, attempts)
    except AllTargetsFailed as exc:
        raise await record_failure(call, adm, model, attempts, exc, stream=False)
    except asyncio.CancelledError:
        await record_abandoned(call, adm, model, attempts, estimated)
        raise
    usage = result.usage
    note_rejected_usage(call, attempts, usage)
    cost = accounting.cost_of(price, usage, call.ctx.markup_factor)
    await accounting.record(
        call.ctx, outcome_of(model, attempts, usage, cost, status="success"), adm.reservation
    )
    await accounting.add_tokens(adm.limits, _extra_tokens(usage, estimated))
    call.headers[COST] = cost_header(cost)
    response = result.response
    response["model"] = model
    if call.anthropic:
        response = openai_to_anthropic_response(response, model=model)
    return HttpResponse(orjson.dumps(response), content_type="application/json")


def _extra_tokens(usage: Usage, estimated: int) -> int:
    """Actual minus what the rate limiter already counted at admission (may be negative)."""
    return usage.prompt_tokens + usage.completion_tokens - estimated


async def _stream(
    call: Call,
    adm: Admission,
    body: dict[str, Any],
    model: str,
    include_usage: bool,
    attempts: Attempts,
    session: Any,
) -> HttpResponse:
    async def one(target: UpstreamTarget) -> ChatStream:
        return await get_adapter(target.provider_kind).chat_stream(session, target, body)

    try:
        upstream = await attempt(adm.route.targets, adm.route.retries, one, attempts)
    except AllTargetsFailed as exc:
        raise await record_failure(call, adm, model, attempts, exc, stream=True)
    ctx = call.ctx

    async def finalize(status: str, error_type: str, usage: Usage, ttft_ms: int | None) -> None:
        note_rejected_usage(call, attempts, usage)
        cost = accounting.cost_of(adm.price, usage, ctx.markup_factor)
        outcome = outcome_of(
            model,
            attempts,
            usage,
            cost,
            status=status,
            error_type=error_type,
            http_status=200,
            ttft_ms=ttft_ms,
            streamed=True,
        )
        await accounting.record(ctx, outcome, adm.reservation)
        await accounting.add_tokens(adm.limits, _extra_tokens(usage, adm.estimated_tokens))

    relay = StreamRelay(upstream, ctx.started, finalize)
    if call.anthropic:
        events = relay.anthropic(model, adm.estimated_tokens)
    else:
        events = relay.openai(include_usage, model)
    response = StreamingHttpResponse(RelayBody(relay, events), content_type="text/event-stream")
    for name, value in SSE_HEADERS.items():
        response[name] = value
    # A header cannot carry a cost that is only known at the end of the stream: streams
    # carry the reserved upper bound; the exact cost is in the usage record.
    reserved = cost_header(adm.reservation.amount)
    call.headers[COST] = reserved
    call.headers[COST_RESERVED] = reserved
    return response
