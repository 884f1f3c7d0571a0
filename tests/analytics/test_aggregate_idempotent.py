from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from apps.analytics.services import aggregate_tenant
from tests.analytics.conftest import actual, add_record, assert_exact


def test_it_counts_once_when_run_twice(tenant_a: Any, populate: Callable[[Any], None]) -> None:
    populate(tenant_a)
    aggregate_tenant(tenant_a)
    first = actual(tenant_a, "hour"), actual(tenant_a, "day")

    aggregate_tenant(tenant_a)
    aggregate_tenant(tenant_a, full=True)

    assert (actual(tenant_a, "hour"), actual(tenant_a, "day")) == first
    assert_exact(tenant_a)


def test_it_adds_new_records_incrementally(tenant_a: Any, populate: Callable[[Any], None]) -> None:
    populate(tenant_a)
    aggregate_tenant(tenant_a)

    now = datetime.now(UTC)
    add_record(tenant_a, now - timedelta(seconds=5), model="m1")
    add_record(tenant_a, now - timedelta(seconds=1), model="m3", api_key_id=99)
    stats = aggregate_tenant(tenant_a)

    assert stats.since > now - timedelta(hours=3)  # incremental, not a full rebuild
    assert_exact(tenant_a)


def test_it_removes_groups_whose_records_changed(tenant_a: Any) -> None:
    """A record rewritten after the fact (here its provider) must not leave its old group."""
    now = datetime.now(UTC)
    record = add_record(tenant_a, now - timedelta(minutes=1), provider="first")
    aggregate_tenant(tenant_a)

    from django_tenants.utils import schema_context

    with schema_context(tenant_a.schema_name):
        record.provider = "second"
        record.save(update_fields=["provider"])
    aggregate_tenant(tenant_a)

    assert {key[4] for key in actual(tenant_a, "hour")} == {"second"}
    assert_exact(tenant_a)
