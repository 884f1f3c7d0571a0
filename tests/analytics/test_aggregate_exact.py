from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.db.models import Sum

from apps.analytics.models import AggregationState, UsageRollup
from apps.analytics.services import aggregate_tenant
from tests.analytics.conftest import SUM_FIELDS, actual, assert_exact


def test_it_rolls_up_records_exactly(tenant_a: Any, populate: Callable[[Any], None]) -> None:
    populate(tenant_a)

    stats = aggregate_tenant(tenant_a)

    assert stats.hourly_rows > 0 and stats.daily_rows > 0
    assert_exact(tenant_a)
    assert AggregationState.objects.get(tenant=tenant_a).watermark == stats.watermark


def test_it_makes_hourly_and_daily_agree(tenant_a: Any, populate: Callable[[Any], None]) -> None:
    populate(tenant_a)
    aggregate_tenant(tenant_a)

    totals = {
        g: UsageRollup.objects.filter(tenant=tenant_a, granularity=g).aggregate(
            **{f: Sum(f) for f in SUM_FIELDS}
        )
        for g in ("hour", "day")
    }
    assert totals["hour"] == totals["day"]
    assert totals["hour"]["requests"] == 40
    assert isinstance(totals["day"]["cost"], Decimal)


def test_it_keeps_tenants_apart(
    tenant_a: Any, tenant_b: Any, populate: Callable[[Any], None]
) -> None:
    populate(tenant_a)
    aggregate_tenant(tenant_a)
    aggregate_tenant(tenant_b)

    assert actual(tenant_b, "hour") == {}
    assert_exact(tenant_a)
