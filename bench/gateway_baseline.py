"""The gateway with its budget and rate-limit path taken out: the baseline that
`python -m bench.gateway --budget-overhead` measures that path against. Benchmarks only.

What stays: key auth, the per-request re-check of the key's status (a gateway without
budgets still needs revocation to bite at once, so that round trip is kept), routing, the
upstream call and the usage record. What goes: the rate-limit call to Redis, the budget
reservation and the settlement inside the usage transaction.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

# isort: off
from cloudfreedom.asgi import application  # sets Django up: import it first
from apps.billing import budget
from apps.core import db
from apps.gateway import accounting, auth

# isort: on

_record = accounting.record


async def _no_rate_limit(limits: Any, estimated_tokens: int) -> dict[str, str]:
    return {}


async def _status_only(ctx: Any, req: budget.ReserveRequest) -> budget.Reservation:
    async with db.connection() as conn:
        await auth.check_fresh(conn, ctx.key.key_id)
    return budget.Reservation(
        id=0,
        request_id=req.request_id,
        amount=Decimal(0),
        max_output_tokens=req.requested_max_output or req.model_cap,
        remaining=None,
        tightest_scope=None,
    )


async def _record_only(ctx: Any, outcome: Any, reservation: Any) -> None:
    await _record(ctx, outcome, None)


accounting.acquire_rate = _no_rate_limit
accounting.reserve = _status_only
accounting.record = _record_only

__all__ = ["application"]
