"""The request workflow behind every /v1 view: authenticate, admit, reserve, call, record.

Order of refusals (none of them reaches an upstream or writes a usage record):
401/403 key → 413/400 body → 404 model → 403 not allowed → 403 not priced → 429 rate
limit → 402 budget (and the key re-check, same round trip) → upstream.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse

from apps.billing.budget import Reservation
from apps.gateway import accounting
from apps.gateway.auth import authenticate
from apps.gateway.catalog_cache import CATALOG, Price, RouteInfo
from apps.gateway.context import RequestContext, new_request_id
from apps.gateway.errors import GatewayError, render
from apps.gateway.validation import parse_json, too_large
from apps.keys.keyuse import note_key_used

log = logging.getLogger("cloudfreedom.gateway")

CENTS_8 = Decimal("0.00000001")
REQUEST_ID = "x-request-id"
COST = "x-cloudfreedom-cost"
COST_RESERVED = "x-cloudfreedom-cost-reserved"
BUDGET_REMAINING = "x-cloudfreedom-budget-remaining"

Handler = Callable[["Call"], Awaitable[HttpResponse]]


@dataclass(slots=True)
class Call:
    """One /v1 request on its way through the gateway."""

    request: HttpRequest
    ctx: RequestContext
    headers: dict[str, str]  # added to the response, success or error
    anthropic: bool

    def body(self) -> dict[str, Any]:
        max_bytes = int(settings.GATEWAY_MAX_BODY_BYTES)
        declared = self.request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > max_bytes:
            raise too_large(max_bytes)
        try:
            raw = self.request.body
        except RequestDataTooBig:
            raise too_large(max_bytes)
        return parse_json(raw, max_bytes)


async def handle(
    request: HttpRequest, endpoint: str, handler: Handler, *, anthropic: bool = False
) -> HttpResponse:
    """Run `handler` with an authenticated Call; render every refusal in one place."""
    request_id = new_request_id()
    headers = {REQUEST_ID: request_id, COST: "0"}
    try:
        key = await authenticate(request.headers)  # type: ignore[arg-type]
        plan = await CATALOG.plan(key.product_id)
        if key.product_id is not None and plan is None:
            raise GatewayError(403, "This workspace has no usable plan.", code="no_plan")
        ctx = RequestContext(request_id=request_id, endpoint=endpoint, key=key, plan=plan)
        note_key_used(key.key_id)
        response = await handler(Call(request, ctx, headers, anthropic))
    except GatewayError as exc:
        if exc.status >= 500:
            log.warning(
                "gateway_error request_id=%s status=%s code=%s", request_id, exc.status, exc.code
            )
        return render(exc, anthropic=anthropic, headers=headers)
    except Exception:
        log.exception("gateway_unhandled request_id=%s", request_id)
        error = GatewayError(500, "The gateway hit an internal error.", code="internal_error")
        return render(error, anthropic=anthropic, headers=headers)
    for name, value in headers.items():
        response[name] = value
    return response


async def admit(call: Call, model: str, mode: str) -> tuple[RouteInfo, Price | None]:
    """The route for `model` if this key may use it and it can be billed."""
    route, _ = await CATALOG.route(model)
    if route is None:
        raise model_not_found(model)
    if not call.ctx.may_use(model):
        raise GatewayError(
            403,
            f"This API key is not allowed to use the model '{model}'.",
            param="model",
            code="model_not_allowed",
        )
    if route.mode != mode:
        kind = "an embedding" if route.mode == "embedding" else "a chat"
        raise GatewayError(
            400,
            f"'{model}' is {kind} model; use its endpoint.",
            param="model",
            code="wrong_endpoint",
        )
    price = route.current_price()
    if price is None and call.ctx.budgeted:
        # Never a silent $0: a budgeted tenant is only served priced models.
        raise GatewayError(
            403,
            f"The model '{model}' has no current price and cannot be served.",
            param="model",
            code="model_not_priced",
        )
    if not route.targets:
        if route.unreadable_credentials:
            # Logged as an error (naming the provider) where the catalog is loaded; the
            # request never reaches an upstream with an empty key.
            raise GatewayError(
                502,
                f"The upstream of '{model}' cannot be reached: its provider credential is "
                "unusable.",
                code="upstream_credential_error",
            )
        raise GatewayError(503, f"The model '{model}' has no active upstream.", code="no_upstream")
    return route, price


def model_not_found(model: str) -> GatewayError:
    return GatewayError(
        404,
        f"The model '{model}' does not exist or you do not have access to it.",
        param="model",
        code="model_not_found",
    )


@dataclass(slots=True)
class Admission:
    route: RouteInfo
    price: Price | None
    reservation: Reservation
    limits: Any
    estimated_tokens: int


async def reserve(
    call: Call,
    route: RouteInfo,
    price: Price | None,
    model: str,
    *,
    estimated_tokens: int,
    prompt_bound: int,
    requested_max_output: int | None,
    choices: int = 1,
    embedding: bool = False,
) -> Admission:
    limits = accounting.limits_for(call.ctx)
    call.headers.update(await accounting.acquire_rate(limits, estimated_tokens))
    req = accounting.reserve_request(
        call.ctx,
        model,
        route,
        price,
        prompt_bound=prompt_bound,
        requested_max_output=requested_max_output,
        choices=choices,
        embedding=embedding,
    )
    reservation = await accounting.reserve(call.ctx, req)
    if reservation.remaining is not None:
        call.headers[BUDGET_REMAINING] = cost_header(reservation.remaining)
    return Admission(route, price, reservation, limits, estimated_tokens)


def cost_header(cost: Decimal) -> str:
    """A cost (or budget) header value: a plain decimal with at most 8 places.

    `str(Decimal)` can print `0.000150000000000000000000` (a reservation's full precision)
    or `0E-8` (a quantized zero); clients parse these headers as plain numbers."""
    text = format(cost.quantize(CENTS_8, rounding=ROUND_HALF_UP), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def now_ms(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)
