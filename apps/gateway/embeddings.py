"""`POST /v1/embeddings`. Upstreams are always asked for floats; base64 (the OpenAI SDK's
default) is encoded here, so every provider supports both encodings.

A client that leaves while the upstream works is billed as chat bills it: the input was
sent (the provider charges for it), so it is recorded and settled at the counted input."""

from __future__ import annotations

import asyncio

import orjson
from django.http import HttpResponse

from apps.gateway import accounting
from apps.gateway.chat import note_rejected_usage, outcome_of, record_abandoned, record_failure
from apps.gateway.providers.base import EmbeddingResult, UpstreamTarget
from apps.gateway.providers.embeddings import to_base64_response, to_float_response
from apps.gateway.providers.registry import get_adapter
from apps.gateway.providers.tokens import measure_embedding_input
from apps.gateway.routing import AllTargetsFailed, Attempts, attempt
from apps.gateway.service import COST, Call, admit, cost_header, reserve
from apps.gateway.sessions import SESSIONS
from apps.gateway.validation import validate_embeddings


async def embeddings(call: Call) -> HttpResponse:
    body = call.body()
    model = validate_embeddings(body)
    route, price = await admit(call, model, "embedding")
    inputs = body.get("input")
    estimated, bound = measure_embedding_input(inputs)
    adm = await reserve(
        call,
        route,
        price,
        model,
        estimated_tokens=estimated,
        prompt_bound=bound,
        requested_max_output=None,
        embedding=True,
    )
    wants_base64 = body.get("encoding_format") == "base64"
    upstream_body = {**body, "encoding_format": "float"}
    session = SESSIONS.get()
    attempts = Attempts()

    async def one(target: UpstreamTarget) -> EmbeddingResult:
        return await get_adapter(target.provider_kind).embeddings(session, target, upstream_body)

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
    await accounting.add_tokens(adm.limits, usage.prompt_tokens - estimated)
    call.headers[COST] = cost_header(cost)
    # Some upstreams answer base64 even when asked for floats; normalise both ways.
    response = (
        to_base64_response(result.response) if wants_base64 else to_float_response(result.response)
    )
    response["model"] = model
    if "usage" not in response:
        response["usage"] = {
            "prompt_tokens": usage.prompt_tokens,
            "total_tokens": usage.prompt_tokens,
        }
    return HttpResponse(orjson.dumps(response), content_type="application/json")
