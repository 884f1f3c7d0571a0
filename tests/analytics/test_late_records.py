from __future__ import annotations

from datetime import timedelta
from typing import Any

from apps.analytics.models import AggregationState
from apps.analytics.services import aggregate_tenant, safety_margin
from tests.analytics.conftest import actual, add_record, assert_exact


def test_it_counts_records_committed_late_inside_the_safety_margin(tenant_a: Any) -> None:
    stats = aggregate_tenant(tenant_a)
    # A request that started before the last run but whose record committed after it.
    add_record(tenant_a, stats.watermark - safety_margin() + timedelta(minutes=1), model="late")

    aggregate_tenant(tenant_a)

    assert_exact(tenant_a)
    assert any(key[1] == "late" for key in actual(tenant_a, "hour"))


def test_it_repairs_records_later_than_the_margin_with_a_full_rebuild(tenant_a: Any) -> None:
    stats = aggregate_tenant(tenant_a)
    add_record(tenant_a, stats.watermark - safety_margin() - timedelta(hours=2), model="very-late")

    aggregate_tenant(tenant_a)
    assert not any(key[1] == "very-late" for key in actual(tenant_a, "hour"))

    aggregate_tenant(tenant_a, full=True)
    assert_exact(tenant_a)


def test_it_never_moves_the_watermark_backwards(tenant_a: Any) -> None:
    first = aggregate_tenant(tenant_a)
    second = aggregate_tenant(tenant_a)

    assert second.watermark > first.watermark
    assert AggregationState.objects.get(tenant=tenant_a).watermark == second.watermark
