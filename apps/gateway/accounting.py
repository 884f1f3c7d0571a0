"""Money and limits for the gateway: prices, reservations, rate limits, usage records.

Every call into `apps.billing` lives in this module. Before a request: one statement that
reserves the worst-case cost and re-reads the key's status. After a request that reached
an upstream: one transaction, sent as one script, that inserts the usage record into the
tenant's schema and settles the reservation to the actual cost.
"""

from __future__ import annotations

import asyncio
import logging
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import psycopg
import psycopg_pool

from apps.billing import budget
from apps.catalog import pricing
from apps.catalog.pricing import Price
from apps.catalog.snapshot import RouteInfo
from apps.core import db
from apps.gateway import auth, ratelimit
from apps.gateway.background import BACKGROUND
from apps.gateway.context import RequestContext
from apps.gateway.errors import GatewayError
from apps.gateway.providers.base import Usage
from apps.usage import records
from apps.usage.records import UsageRow

log = logging.getLogger("cloudfreedom.gateway.accounting")

# -- prices ------------------------------------------------------------------------------
# The formulas live in apps.catalog.pricing; `cost_of` is re-exported for the gateway's
# modules, which bill through this one.
cost_of = pricing.cost_of


def reserve_request(
    ctx: RequestContext,
    model: str,
    route: RouteInfo,
    price: Price | None,
    *,
    prompt_bound: int,
    requested_max_output: int | None,
    choices: int = 1,
    embedding: bool = False,
) -> budget.ReserveRequest:
    # price=None only for tenants that are not budgeted (checked by the caller).
    bound = pricing.worst_case(
        price,
        ctx.markup_factor,
        prompt_bound=prompt_bound,
        model_cap=route.max_output_tokens,
        choices=choices,
        embedding=embedding,
    )
    return budget.ReserveRequest(
        request_id=ctx.request_id,
        tenant_id=ctx.key.tenant_id,
        member_id=ctx.key.member_id,
        api_key_id=ctx.key.key_id,
        prompt_cost=bound.prompt_cost,
        output_token_cost=bound.output_token_cost,
        requested_max_output=None if embedding else requested_max_output,
        model_cap=bound.model_cap,
        min_output=bound.min_output,
        endpoint=ctx.endpoint,
        model=model,
    )


# -- before the upstream ------------------------------------------------------------------


async def reserve(ctx: RequestContext, req: budget.ReserveRequest) -> budget.Reservation:
    """Re-read the key's status and, only if it may still spend, reserve: one round trip.
    The key snapshot is cached for a few seconds; revocation, expiry and suspension bite
    here, and a refused request holds, charges and records nothing."""
    try:
        async with db.connection() as conn:
            cur = await conn.execute(
                budget.RESERVE_FOR_KEY_SQL, (ctx.key.key_id, *budget.reserve_params(req))
            )
            row = await cur.fetchone()
    except budget.BudgetUnavailable:
        log.error("budget_unavailable request_id=%s", ctx.request_id)
        raise GatewayError(503, "Budgets are temporarily unavailable.", code="budget_unavailable")
    except (psycopg.Error, psycopg_pool.PoolTimeout) as exc:
        log.error("reserve_db_error request_id=%s error=%s", ctx.request_id, type(exc).__name__)
        raise GatewayError(503, "Budgets are temporarily unavailable.", code="budget_unavailable")
    if row is None:
        raise auth.invalid_key()  # the key was deleted since it was cached
    revoked, expires_at, tenant_status = row[0], row[1], row[2]
    auth.refuse_if_unusable(bool(revoked), expires_at, tenant_status)
    try:
        return budget.reservation_from_row(req, row[3:])
    except budget.BudgetExceeded as exc:
        # The one formatter of money headers; imported here because service imports us.
        from apps.gateway.service import cost_header

        remaining = cost_header(exc.remaining)
        raise GatewayError(
            402,
            f"The {exc.scope} budget does not cover this request (remaining ${remaining}).",
            code="budget_exceeded",
            param=None,
            headers={"x-cloudfreedom-budget-remaining": remaining},
        )


async def check_key_fresh(ctx: RequestContext) -> None:
    try:
        async with db.connection() as conn:
            await auth.check_fresh(conn, ctx.key.key_id)
    except psycopg.Error:
        raise GatewayError(
            503, "Authentication is temporarily unavailable.", code="auth_unavailable"
        )


def limits_for(ctx: RequestContext) -> ratelimit.Limits:
    return ratelimit.Limits(
        tenant_id=ctx.key.tenant_id,
        key_id=ctx.key.key_id,
        tenant_rpm=ctx.tenant_rpm,
        tenant_tpm=ctx.tenant_tpm,
        key_rpm=ctx.key.key_rpm,
        key_tpm=ctx.key.key_tpm,
    )


async def acquire_rate(limits: ratelimit.Limits, estimated_tokens: int) -> dict[str, str]:
    """Take a request slot; returns the x-ratelimit-* headers or raises 429/503."""
    try:
        decision = await ratelimit.acquire(limits, estimated_tokens)
    except ratelimit.RateLimiterUnavailable:
        raise GatewayError(
            503, "Rate limiting is temporarily unavailable.", code="rate_limiter_unavailable"
        )
    if not decision.allowed:
        headers = dict(decision.headers)
        headers["retry-after"] = str(max(1, math.ceil(decision.retry_after)))
        raise GatewayError(
            429,
            f"Rate limit reached for this {decision.scope or 'workspace'}. "
            f"Please try again in {decision.retry_after:.1f}s.",
            code="rate_limit_exceeded",
            headers=headers,
        )
    return dict(decision.headers)


async def add_tokens(limits: ratelimit.Limits, tokens: int) -> None:
    """Correct the TPM windows by actual minus estimated tokens (best effort, never raises)."""
    if tokens:
        await ratelimit.add_tokens(limits, tokens)


# -- after the upstream -------------------------------------------------------------------


@dataclass(slots=True)
class Outcome:
    model: str
    provider: str
    upstream_model: str
    attempts: int
    attempt_log: list[dict[str, Any]]
    usage: Usage
    cost: Decimal
    status: str  # success | error | client_closed
    error_type: str
    http_status: int | None
    ttft_ms: int | None
    streamed: bool


def usage_row(ctx: RequestContext, outcome: Outcome) -> UsageRow:
    """The request's usage record: it names the key, its member and the member's user."""
    usage = outcome.usage
    return UsageRow(
        request_id=ctx.request_id,
        created_at=datetime.now(UTC),
        endpoint=ctx.endpoint,
        model=outcome.model,
        status=outcome.status,
        api_key_id=ctx.key.key_id,
        api_key_prefix=ctx.key.prefix,
        member_id=ctx.key.member_id,
        user_id=ctx.key.user_id,
        provider=outcome.provider,
        upstream_model=outcome.upstream_model,
        attempts=outcome.attempts,
        attempt_log=outcome.attempt_log,
        prompt_tokens=usage.prompt_tokens,
        completion_tokens=usage.completion_tokens,
        cached_tokens=usage.cached_tokens,
        cache_write_tokens=usage.cache_write_tokens,
        usage_reported=usage.reported,
        cost=outcome.cost,
        error_type=outcome.error_type,
        http_status=outcome.http_status,
        latency_ms=ctx.elapsed_ms(),
        ttft_ms=outcome.ttft_ms,
        streamed=outcome.streamed,
    )


async def record(
    ctx: RequestContext, outcome: Outcome, reservation: budget.Reservation | None
) -> None:
    """Write the usage record and settle, in ONE transaction. Never raises.

    Shielded: a client that leaves while this runs cancels the request's task, and the
    record and settlement must still land exactly once."""
    await BACKGROUND.shielded(_record(ctx, outcome, reservation))


# Waits between attempts to write a usage record when the database does not answer.
RECORD_RETRY_DELAYS = (0.1, 0.5, 2.0, 5.0)


def _record_failed(ctx: RequestContext, outcome: Outcome, exc: BaseException) -> None:
    # Nothing was written (one transaction). The reservation stays held until billing's
    # sweeper expires it: it then charges the prompt's cost and leaves an `incomplete`
    # record, so the request is not free; the error is loud for operators.
    log.error(
        "usage_record_failed request_id=%s tenant=%s key=%s cost=%s error=%s",
        ctx.request_id,
        ctx.key.tenant_id,
        ctx.key.prefix,
        outcome.cost,
        type(exc).__name__,
    )


def _check_written(ctx: RequestContext, row: UsageRow, written: records.Written) -> None:
    """Say loudly when the record or the settlement did not land as a normal request's."""
    if written.settlement == "conflict":
        # Another source (an ingest) charged this request id first. This request was
        # charged in full all the same (a `usage_conflict` ledger entry): alert an operator.
        log.error(
            "usage_settle_conflict request_id=%s tenant=%s key=%s cost=%s recorded=%s",
            ctx.request_id,
            ctx.key.tenant_id,
            ctx.key.prefix,
            row.cost,
            written.recorded,
        )
    elif written.settlement == "expired":
        # The request outlived its reservation: the sweeper charged the prompt's cost and
        # left the record; that charge stands (the released budget may be spent since).
        log.error(
            "usage_settle_after_expiry request_id=%s tenant=%s key=%s cost=%s",
            ctx.request_id,
            ctx.key.tenant_id,
            ctx.key.prefix,
            row.cost,
        )
    elif not written.recorded and written.settlement != "already":
        # ("already" with no record: a retry whose first attempt committed.)
        log.error(
            "usage_record_exists request_id=%s tenant=%s key=%s cost=%s",
            ctx.request_id,
            ctx.key.tenant_id,
            ctx.key.prefix,
            row.cost,
        )


async def _record(
    ctx: RequestContext, outcome: Outcome, reservation: budget.Reservation | None
) -> None:
    row = usage_row(ctx, outcome)
    settle = reservation.id if reservation is not None else None
    for delay in (*RECORD_RETRY_DELAYS, None):
        try:
            async with db.connection() as conn:
                written = await records.write_usage(conn, ctx.key.schema, row, settle=settle)
            break
        except (psycopg.OperationalError, psycopg_pool.PoolTimeout) as exc:
            # A database blip (restart, failover, a dropped connection). Retrying is safe:
            # the script is one transaction, a record already written is never overwritten
            # and a reservation settles once.
            if delay is None:
                _record_failed(ctx, outcome, exc)
                return
            log.warning(
                "usage_record_retry request_id=%s error=%s", ctx.request_id, type(exc).__name__
            )
            await asyncio.sleep(delay)
        except Exception as exc:
            _record_failed(ctx, outcome, exc)
            return
    if written.settlement not in ("settled", None) or not written.recorded:
        _check_written(ctx, row, written)
    # Debug level: an INFO line per request would cost more CPU than the accounting itself.
    log.debug(
        "usage_recorded request_id=%s tenant=%s key=%s model=%s status=%s cost=%s "
        "prompt=%d completion=%d attempts=%d",
        ctx.request_id,
        ctx.key.tenant_id,
        ctx.key.prefix,
        outcome.model,
        outcome.status,
        outcome.cost,
        row.prompt_tokens,
        row.completion_tokens,
        outcome.attempts,
    )
