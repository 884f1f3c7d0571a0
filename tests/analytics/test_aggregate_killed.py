"""A worker dying mid-run: everything of the tenant's run rolls back, the rerun is exact."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from apps.analytics import services, tasks
from apps.analytics.models import AggregationState, UsageRollup
from tests.analytics.conftest import add_record, assert_exact


class Killed(Exception):
    pass


def test_it_rolls_back_a_run_killed_after_the_hourly_rows(
    tenant_a: Any, populate: Callable[[Any], None], monkeypatch: pytest.MonkeyPatch
) -> None:
    populate(tenant_a)
    services.aggregate_tenant(tenant_a)
    before = AggregationState.objects.get(tenant=tenant_a).watermark
    add_record(tenant_a, datetime.now(UTC) - timedelta(seconds=2), model="new")

    def die(*args: Any, **kwargs: Any) -> int:
        raise Killed

    with monkeypatch.context() as patch:
        patch.setattr(services, "_upsert_daily", die)
        with pytest.raises(Killed):
            services.aggregate_tenant(tenant_a)

    assert AggregationState.objects.get(tenant=tenant_a).watermark == before
    assert not UsageRollup.objects.filter(tenant=tenant_a, model="new").exists()

    services.aggregate_tenant(tenant_a)
    assert_exact(tenant_a)


def test_one_tenants_failure_does_not_stop_the_others(
    tenant_a: Any,
    tenant_b: Any,
    populate: Callable[[Any], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    populate(tenant_a)
    populate(tenant_b)
    real = services.aggregate_tenant
    # tenant_a was created first, so the task reaches it first: it dies after tenant_a's
    # upserts, inside its transaction, like a worker killed mid-run.
    first_id = min(tenant_a.pk, tenant_b.pk)

    def flaky(tenant: Any, **kwargs: Any) -> Any:
        if tenant.pk == first_id:
            with monkeypatch.context() as patch:
                patch.setattr(services, "_upsert_daily", _raise)
                return real(tenant, **kwargs)
        return real(tenant, **kwargs)

    monkeypatch.setattr(tasks, "aggregate_tenant", flaky)
    result = tasks.aggregate_usage.delay().get()

    assert result["failed"] == [first_id]
    assert not UsageRollup.objects.filter(tenant_id=first_id).exists()
    other = tenant_b if first_id == tenant_a.pk else tenant_a
    assert_exact(other)

    monkeypatch.setattr(tasks, "aggregate_tenant", real)
    assert tasks.aggregate_usage.delay().get()["failed"] == []
    assert_exact(tenant_a)
    assert_exact(tenant_b)


def test_it_skips_a_tenant_deleted_during_the_run(
    tenant_a: Any, tenant_b: Any, populate: Callable[[Any], None], monkeypatch: pytest.MonkeyPatch
) -> None:
    populate(tenant_a)
    first, second = sorted([tenant_a, tenant_b], key=lambda t: t.pk)
    real = services.aggregate_tenant
    seen: list[int] = []

    def delete_the_next(tenant: Any, **kwargs: Any) -> Any:
        seen.append(tenant.pk)
        if tenant.pk == first.pk:
            type(second).objects.filter(pk=second.pk).first().delete(force_drop=True)
        return real(tenant, **kwargs)

    monkeypatch.setattr(tasks, "aggregate_tenant", delete_the_next)
    result = tasks.aggregate_usage.delay().get()

    assert second.pk not in seen
    assert result["failed"] == []


def _raise(*args: Any, **kwargs: Any) -> int:
    raise Killed
