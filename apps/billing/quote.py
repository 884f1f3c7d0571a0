"""The budget dry run: would the gateway reserve this request for this key right now?

It asks the database the very question the gateway asks: it runs the gateway's statement
(`public.billing_reserve_for_key`, with the bound from `apps.catalog.pricing.worst_case`)
inside a savepoint and rolls the savepoint back. So the answer is the gateway's answer by
construction, never a Python copy of the SQL's arithmetic, and nothing stays reserved.
The answer can be stale a moment later: it holds nothing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_CEILING, Decimal
from typing import TYPE_CHECKING

from django.db import connection, transaction
from django.utils import timezone

from apps.billing import budget
from apps.catalog.pricing import EIGHT_PLACES, Bound, price_in_force, worst_case

if TYPE_CHECKING:
    from apps.catalog.models import ModelRoute
    from apps.keys.models import ApiKey
    from apps.tenants.models import Tenant

# A dry run's reservation lives only inside a rolled-back savepoint, under an id that no
# gateway request can have (the gateway's ids start with "req_").
DRY_RUN_ID_PREFIX = "dryrun_"


class QuoteError(ValueError):
    """The request cannot be quoted at all (e.g. an unpriced model); `field` names the
    input at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Quote:
    allowed: bool
    reason: str  # "ok", or why not (the gateway's error code)
    scope: str | None  # the tightest (or the refusing) scope
    remaining: Decimal | None  # of that scope before this request; None: not reached
    estimated_cost: Decimal  # what would be reserved (the worst case)
    max_output_tokens: int  # the output limit the gateway would send upstream; 0 if refused


def model_allowed(tenant: Tenant, key: ApiKey, route: ModelRoute) -> bool:
    """The gateway's rule (`RequestContext.may_use`): the key's list, if it has one, then
    the plan's, if the tenant is on one."""
    if key.allowed_models and route.public_name not in key.allowed_models:
        return False
    if tenant.product_id is None:
        return True
    return tenant.product.allowed_models.filter(pk=route.pk).exists()


def request_bound(
    tenant: Tenant, route: ModelRoute, *, prompt_tokens: int, choices: int = 1
) -> Bound:
    """The request's worst case, as the gateway bounds it (`apps.catalog.pricing`)."""
    price = price_in_force(route)
    if price is None:
        raise QuoteError("model", f"Model '{route.public_name}' has no price.")
    factor = tenant.product.markup_factor if tenant.product_id else Decimal(1)
    return worst_case(
        price,
        factor,
        prompt_bound=prompt_tokens,
        model_cap=route.max_output_tokens,
        choices=choices,
        embedding=route.mode == route.Mode.EMBEDDING,
    )


def reserve_request(
    tenant: Tenant,
    key: ApiKey,
    route: ModelRoute,
    bound: Bound,
    *,
    request_id: str,
    max_tokens: int | None,
) -> budget.ReserveRequest:
    """The reservation the gateway would ask for (`accounting.reserve_request`)."""
    embedding = route.mode == route.Mode.EMBEDDING
    return budget.ReserveRequest(
        request_id=request_id,
        tenant_id=tenant.pk,
        member_id=key.member_id,
        api_key_id=key.pk,
        prompt_cost=bound.prompt_cost,
        output_token_cost=bound.output_token_cost,
        requested_max_output=None if embedding else max_tokens,
        model_cap=bound.model_cap,
        min_output=bound.min_output,
        endpoint="embeddings" if embedding else "chat",
        model=route.public_name,
    )


def _refusal(
    revoked: bool, expires_at: datetime | None, tenant_status: str
) -> tuple[str, str] | None:
    """(reason, scope) if the key may not spend at all, in the gateway's order
    (`auth.refuse_if_unusable`)."""
    if revoked:
        return "key_revoked", "key"
    if expires_at is not None and expires_at <= timezone.now():
        return "key_expired", "key"
    if tenant_status != "active":
        return "tenant_suspended", "tenant"
    return None


def quote_request(
    tenant: Tenant,
    key: ApiKey,
    route: ModelRoute,
    *,
    prompt_tokens: int,
    max_tokens: int | None = None,
    choices: int = 1,
) -> Quote:
    """Could `key` afford a request of `prompt_tokens` (and `max_tokens`, if the client sets
    one; `choices` answers, the request's `n`) to `route` right now? The key must belong to
    `tenant`."""
    if key.tenant_id != tenant.pk:
        raise QuoteError("key_prefix", "No API key with this prefix in this tenant.")
    bound = request_bound(tenant, route, prompt_tokens=prompt_tokens, choices=choices)
    req = reserve_request(
        tenant,
        key,
        route,
        bound,
        request_id=DRY_RUN_ID_PREFIX + uuid.uuid4().hex,
        max_tokens=max_tokens,
    )
    # Shown when the request is refused: the bound for the full output limit, rounded up as
    # a reservation's amount is (display only; an accepted request shows the SQL's amount).
    cap = min(req.requested_max_output or req.model_cap, req.model_cap)
    full_cost = bound.amount(cap).quantize(EIGHT_PLACES, rounding=ROUND_CEILING)
    if not model_allowed(tenant, key, route):
        scope = "key" if key.allowed_models else "tenant"
        return Quote(False, "model_not_allowed", scope, None, full_cost, 0)

    with transaction.atomic():
        with connection.cursor() as cur:
            cur.execute(budget.RESERVE_FOR_KEY_SQL, (key.pk, *budget.reserve_params(req)))
            row = cur.fetchone()
        # Undo the reservation (and the budget rows' `reserved`): only the answer is kept.
        transaction.set_rollback(True)

    if row is None:  # deleted between the caller's lookup and now
        raise QuoteError("key_prefix", "No API key with this prefix in this tenant.")
    refusal = _refusal(bool(row[0]), row[1], row[2])
    if refusal is not None:
        return Quote(False, refusal[0], refusal[1], None, full_cost, 0)
    status, _res_id, amount, max_output, remaining, scope = row[3:9]
    if status == "exceeded":
        return Quote(False, "budget_exceeded", scope, remaining, full_cost, 0)
    # `remaining` is what is left after this reservation; the caller asks about before.
    before = None if remaining is None else remaining + amount
    return Quote(True, "ok", scope, before, amount, max_output)
