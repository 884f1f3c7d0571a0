"""The one pricing module: cost, worst-case bound, minimum output, price in force."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from decimal import Decimal as D
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from apps.catalog import pricing
from apps.catalog.models import ModelPrice
from apps.catalog.pricing import Price, cost_of, price_in_force, worst_case
from apps.catalog.snapshot import PRICES_SQL, RouteInfo
from apps.gateway import accounting
from apps.gateway.context import KeySnapshot, RequestContext
from apps.gateway.providers.base import Usage
from tests.support import factories

NOW = timezone.now()
PRICE = Price(D("2.00"), D("8.00"), D("0.50"), D("2.50"), NOW, None)


def test_it_costs_each_kind_of_token_at_its_own_price() -> None:
    usage = Usage(
        prompt_tokens=1000, completion_tokens=500, cached_tokens=200, cache_write_tokens=100
    )
    # 700 uncached * 2 + 200 cached * 0.5 + 100 written * 2.5 + 500 out * 8, per 1M, +10 %.
    expected = D(700 * 2 + 200 * D("0.5") + 100 * D("2.5") + 500 * 8) / 1_000_000 * D("1.1")
    assert cost_of(PRICE, usage, D("1.1")) == expected.quantize(D("0.00000001"))
    assert cost_of(None, usage, D("1.1")) == 0


def test_the_worst_case_bounds_the_prompt_by_the_dearer_input_and_counts_choices() -> None:
    bound = worst_case(PRICE, D("1.1"), prompt_bound=1000, model_cap=4096, choices=3)
    assert bound.prompt_cost == D("0.00275000")  # 1000 * 2.50 (cache write) / 1M * 1.1
    assert bound.output_token_cost == D("8.00") / 1_000_000 * D("1.1") * 3
    assert (bound.model_cap, bound.min_output) == (4096, pricing.MIN_OUTPUT_TOKENS)
    embed = worst_case(PRICE, D(1), prompt_bound=1000, model_cap=4096, embedding=True)
    assert (embed.output_token_cost, embed.model_cap, embed.min_output) == (0, 0, 0)


def _context() -> RequestContext:
    # Every field of the key snapshot, whatever other fields it gains.
    blank: dict[str, Any] = {f.name: None for f in dataclasses.fields(KeySnapshot)}
    blank.update(key_id=7, tenant_id=3, member_id=None, prefix="cfk_x", tenant_kind="customer")
    return RequestContext("req_test", "chat", KeySnapshot(**blank), None)


def test_the_gateway_reserves_with_the_catalogs_bound_and_minimum(monkeypatch: Any) -> None:
    route = RouteInfo(1, "m", "chat", 4096, 0, 0, (), (PRICE,))
    # The minimum output is defined once: changing it there changes the gateway's request.
    monkeypatch.setattr(pricing, "MIN_OUTPUT_TOKENS", 7)
    req = accounting.reserve_request(
        _context(), "m", route, PRICE, prompt_bound=1000, requested_max_output=None, choices=2
    )
    bound = worst_case(PRICE, D(1), prompt_bound=1000, model_cap=4096, choices=2)
    assert req.min_output == 7
    assert (req.prompt_cost, req.output_token_cost, req.model_cap) == (
        bound.prompt_cost,
        bound.output_token_cost,
        bound.model_cap,
    )


@pytest.mark.django_db
def test_the_price_in_force_is_the_same_from_the_orm_and_from_the_snapshot_sql() -> None:
    route = factories.route(price=None)
    day = timedelta(days=1)
    rows = [  # (input price, from, to)
        ("1.00", NOW - 10 * day, NOW - 5 * day),
        ("2.00", NOW - 5 * day, None),
        ("3.00", NOW + 5 * day, None),  # announced: not yet in force
        ("4.00", NOW - 5 * day, NOW - 4 * day),  # same start as 2.00, newer row
    ]
    for inp, start, end in rows:
        ModelPrice.objects.create(
            route=route,
            input_per_mtok=D(inp),
            output_per_mtok=D(1),
            cached_input_per_mtok=D(0),
            cache_write_per_mtok=D(0),
            effective_from=start,
            effective_to=end,
        )
    with connection.cursor() as cur:
        cur.execute(PRICES_SQL, [NOW - 20 * day])
        prices = tuple(Price(*row[1:]) for row in cur.fetchall() if row[0] == route.pk)
    info = RouteInfo(route.pk, route.public_name, "chat", 4096, 0, 0, (), prices)
    for at in (NOW - 7 * day, NOW - 4.5 * day, NOW - 3 * day, NOW, NOW + 6 * day, NOW - 11 * day):
        assert price_in_force(route, at) == info.price_at(at), at
    assert price_in_force(route, NOW) == info.current_price()
    assert info.price_at(NOW).input == D("2.00")  # type: ignore[union-attr]
    assert info.price_at(NOW - 4.5 * day).input == D("4.00")  # type: ignore[union-attr]
