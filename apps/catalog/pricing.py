"""Prices and cost: the one place a price, a cost and a worst-case bound are computed.

The gateway (per request, from its cached catalog snapshot), the usage ingest and the
budget dry run all call these functions, so a request costs the same whichever way it
reaches the ledger. Amounts are Decimal, per 1M tokens before a plan's markup.

The reservation's arithmetic on these inputs (the output limit that fits, the amount held,
rounded up to 8 places) happens inside the `billing_reserve` SQL function; Python passes it
the bound from `worst_case` and never re-does that step.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, NamedTuple, Protocol

from django.utils import timezone

if TYPE_CHECKING:
    from apps.catalog.models import ModelPrice, ModelRoute

MILLION = Decimal(1_000_000)
EIGHT_PLACES = Decimal("0.00000001")  # costs are kept to 8 decimal places
ZERO = Decimal(0)
# The smallest answer worth serving when the budget may shrink a request's output limit
# (the gateway never shrinks below this; an explicit `max_tokens` is never shrunk at all).
MIN_OUTPUT_TOKENS = 16


@dataclass(frozen=True, slots=True)
class Price:
    """A model's price per 1M tokens, before markup, valid in [effective_from, effective_to)."""

    input: Decimal
    output: Decimal
    cached_input: Decimal
    cache_write: Decimal
    effective_from: datetime
    effective_to: datetime | None

    def in_force(self, at: datetime) -> bool:
        return self.effective_from <= at and (self.effective_to is None or at < self.effective_to)


class TokenCounts(Protocol):
    """What a cost is computed from (`apps.gateway.providers.base.Usage` is one)."""

    prompt_tokens: int  # all input tokens, cached and cache-written ones included
    completion_tokens: int
    cached_tokens: int
    cache_write_tokens: int


def price_from_model(p: ModelPrice) -> Price:
    return Price(
        p.input_per_mtok,
        p.output_per_mtok,
        p.cached_input_per_mtok,
        p.cache_write_per_mtok,
        p.effective_from,
        p.effective_to,
    )


def price_in_force(route: ModelRoute, at: datetime | None = None) -> Price | None:
    """The route's price at `at` (now by default), or None: an unpriced model is never
    charged a silent $0, callers refuse it."""
    from apps.catalog.models import ModelPrice

    model = ModelPrice.objects.effective(route, at)
    return price_from_model(model) if model is not None else None


def pick_price(prices: Iterable[Price], at: datetime | None = None) -> Price | None:
    """The first of `prices` (newest first) in force at `at`: the cached snapshot's
    counterpart of `price_in_force`, with the same rule."""
    at = at or timezone.now()
    for price in prices:
        # `Price.in_force`, inlined: this runs on every request.
        if price.effective_from <= at and (price.effective_to is None or at < price.effective_to):
            return price
    return None


def cost_of(price: Price | None, usage: TokenCounts, markup_factor: Decimal) -> Decimal:
    """(uncached * input + cached * cached + cache writes * write + output * output) / 1M,
    times the plan's markup, to 8 places. `prompt_tokens` includes cached and written.
    No price costs nothing: only tenants that are not budgeted are ever served one."""
    if price is None:
        return ZERO
    cached = usage.cached_tokens
    written = usage.cache_write_tokens
    uncached = max(0, usage.prompt_tokens - cached - written)
    raw = (
        uncached * price.input
        + cached * price.cached_input
        + written * price.cache_write
        + usage.completion_tokens * price.output
    )
    return (raw / MILLION * markup_factor).quantize(EIGHT_PLACES, rounding=ROUND_HALF_UP)


def customer_price_per_mtok(price_per_mtok: Decimal, markup_factor: Decimal) -> Decimal:
    """What a plan's customer pays for 1M tokens at `price_per_mtok`: the price times the
    markup, to 8 places, rounded as `cost_of` rounds (so it is exactly what 1M tokens cost
    on the gateway). For the public model list and pricing pages."""
    return (price_per_mtok * markup_factor).quantize(EIGHT_PLACES, rounding=ROUND_HALF_UP)


def per_token(price_per_mtok: Decimal, markup_factor: Decimal) -> Decimal:
    """One token's price with markup, unrounded (the SQL rounds the total once)."""
    return price_per_mtok / MILLION * markup_factor


class Bound(NamedTuple):
    """The inputs of a reservation: the worst the request can cost is
    `prompt_cost + output_tokens * output_token_cost`, for at most `model_cap` output
    tokens, shrunk (when the client set no limit) to no fewer than `min_output`.
    (A tuple: built on every request, and cheaper than a frozen dataclass.)"""

    prompt_cost: Decimal  # rounded to 8 places
    output_token_cost: Decimal  # one output position (n choices: n tokens), unrounded
    model_cap: int
    min_output: int

    def amount(self, output_tokens: int) -> Decimal:
        """The bound for `output_tokens` output positions, unrounded (display only: the
        reservation's own amount comes from `billing_reserve`)."""
        return self.prompt_cost + output_tokens * self.output_token_cost


def worst_case(
    price: Price | None,
    markup_factor: Decimal,
    *,
    prompt_bound: int,
    model_cap: int,
    choices: int = 1,
    embedding: bool = False,
) -> Bound:
    """The worst-case bound of a request whose prompt is at most `prompt_bound` tokens.

    Cache writes can cost more than plain input, so the prompt is bounded by the dearer of
    the two. `choices` answers produce `choices` outputs, so one output position costs that
    many tokens. An embedding has no output. `price=None` bounds at zero: only for tenants
    that are not budgeted (the caller refuses unpriced models to everyone else).
    """
    if price is None:
        prompt_cost = output_cost = ZERO
    else:
        prompt_cost = prompt_bound * per_token(max(price.input, price.cache_write), markup_factor)
        output_cost = ZERO if embedding else per_token(price.output, markup_factor) * choices
    # Positional: this runs on every request. (prompt_cost, output_token_cost, model_cap,
    # min_output)
    return Bound(
        prompt_cost.quantize(EIGHT_PLACES, rounding=ROUND_HALF_UP),
        output_cost,
        0 if embedding else model_cap,
        0 if embedding else MIN_OUTPUT_TOKENS,
    )
