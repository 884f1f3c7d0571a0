"""The budget hot path's SQL: reserve before the upstream call, settle after it.

Each is one round trip to a PL/pgSQL function (migrations 0002 to 0005) on the gateway's
async pool, so the check-and-reserve is atomic across every scope and cannot be raced: the
tenant's budget row is locked first, then the member's, then the key's. The gateway runs
`RESERVE_FOR_KEY_SQL` itself and settles inside its usage-record script (`SETTLE_SQL`).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings

from apps.catalog.pricing import MIN_OUTPUT_TOKENS

DEFAULT_RESERVATION_TIMEOUT_SECONDS = 15 * 60

# Settles a reservation to its actual cost, returning 'settled', 'already' (settled
# before), 'expired' (the sweeper charged the prompt's cost: final) or 'conflict' (another
# source charged the request id; charged in full all the same). Parameters: the
# reservation id, the actual cost. The gateway sends it in one script with the usage record
# (apps.usage.records.write_usage).
SETTLE_SQL = "SELECT public.billing_settle(%s::bigint, %s::numeric)"
# The gateway's reservation: re-reads the key's status and reserves only if the key may
# still spend (migration 0004). Columns: k_revoked, k_expires_at, k_status, then the
# reservation's six (NULL when the key may not spend). Parameters: the key id, then
# `reserve_params(req)`. No row: the key is gone.
RESERVE_FOR_KEY_SQL = (
    "SELECT * FROM public.billing_reserve_for_key(%s::bigint, %s::text, %s::bigint,"
    " %s::bigint, %s::bigint, %s::numeric, %s::numeric, %s::integer, %s::integer,"
    " %s::integer, %s::integer, %s::text, %s::text)"
)


@dataclass(frozen=True)
class ReserveRequest:
    request_id: str
    tenant_id: int
    member_id: int | None  # Membership id (the key's member), or None
    api_key_id: int | None
    prompt_cost: Decimal  # worst-case cost of the input (already with markup)
    output_token_cost: Decimal  # cost of ONE output token (with markup)
    requested_max_output: int | None  # the client's max_tokens, or None
    model_cap: int  # the model's output cap
    min_output: int = MIN_OUTPUT_TOKENS  # the smallest answer worth serving (the catalog's)
    # Optional context, kept on the reservation so an abandoned request's "incomplete"
    # usage record can name what it was.
    endpoint: str = ""
    model: str = ""


@dataclass(frozen=True)
class Reservation:
    id: int
    request_id: str
    amount: Decimal
    max_output_tokens: int  # the output limit to send upstream
    remaining: Decimal | None  # of the tightest scope after this reservation; None: unlimited
    tightest_scope: str | None  # "tenant" | "member" | "key"


class BudgetExceeded(Exception):
    def __init__(self, scope: str, remaining: Decimal) -> None:
        super().__init__(f"The {scope} budget cannot cover this request.")
        self.scope = scope
        self.remaining = remaining


class BudgetUnavailable(Exception):
    """The budget store did not answer: the gateway fails closed (503)."""


def reservation_timeout_seconds() -> int:
    return int(
        getattr(settings, "BILLING_RESERVATION_TIMEOUT", DEFAULT_RESERVATION_TIMEOUT_SECONDS)
    )


def reserve_params(req: ReserveRequest) -> tuple[object, ...]:
    return (
        req.request_id,
        req.tenant_id,
        req.member_id,
        req.api_key_id,
        req.prompt_cost,
        req.output_token_cost,
        req.requested_max_output,
        req.model_cap,
        req.min_output,
        reservation_timeout_seconds(),
        req.endpoint,
        req.model,
    )


def reservation_from_row(req: ReserveRequest, row: tuple[object, ...] | None) -> Reservation:
    """The reservation in `row` (o_status … o_scope), or raise BudgetExceeded."""
    if row is None:  # pragma: no cover - the function always returns a row
        raise BudgetUnavailable("billing_reserve returned nothing")
    status, res_id, amount, max_output, remaining, scope = row[:6]
    if status == "exceeded":
        raise BudgetExceeded(scope, remaining)  # type: ignore[arg-type]
    return Reservation(
        id=res_id,  # type: ignore[arg-type]
        request_id=req.request_id,
        amount=amount,  # type: ignore[arg-type]
        max_output_tokens=max_output,  # type: ignore[arg-type]
        remaining=remaining,  # type: ignore[arg-type]
        tightest_scope=scope,  # type: ignore[arg-type]
    )
