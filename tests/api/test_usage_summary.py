from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from rest_framework.test import APIClient

from apps.analytics.services import aggregate_tenant
from tests.analytics.conftest import add_record


def summary(client: APIClient, tenant: Any, **params: str) -> Any:
    return client.get(f"/api/tenants/{tenant.slug}/usage/summary", params)


def test_it_sums_rollups_and_the_fresh_tail_without_double_counting(
    api: Callable[[Any], APIClient], tenant_a: Any, tenant_b: Any, alice: Any, bob_key: Any
) -> None:
    now = datetime.now(UTC)
    key = bob_key.key
    add_record(tenant_a, now - timedelta(days=1), model="m1", cost=Decimal("1"), prompt_tokens=1)
    add_record(
        tenant_a,
        now - timedelta(hours=3),
        model="m2",
        cost=Decimal("2"),
        prompt_tokens=2,
        api_key_id=key.pk,
        member_id=key.member_id,
    )
    aggregate_tenant(tenant_a)
    # Committed after the run: only the raw tail can show it.
    add_record(
        tenant_a,
        now,
        model="m2",
        cost=Decimal("4"),
        prompt_tokens=4,
        status="error",
        api_key_id=key.pk,
        member_id=key.member_id,
    )
    add_record(tenant_b, now, model="m1", cost=Decimal("100"))  # another tenant's
    client = api(alice)

    by_model = summary(client, tenant_a, group_by="model").json()
    rows = {r["key"]: r for r in by_model["rows"]}
    assert set(rows) == {"m1", "m2"}
    assert rows["m2"]["cost"] == "6.00000000"
    assert (rows["m2"]["requests"], rows["m2"]["errors"], rows["m2"]["prompt_tokens"]) == (2, 1, 6)
    assert rows["m1"]["cost"] == "1.00000000"

    by_key = summary(client, tenant_a, group_by="key").json()["rows"]
    labels = {r["label"]: r["cost"] for r in by_key}
    assert labels == {key.prefix: "6.00000000", "(none)": "1.00000000"}

    by_member = summary(client, tenant_a, group_by="member").json()["rows"]
    assert {r["label"]: r["cost"] for r in by_member} == {
        "bob@example.com": "6.00000000",
        "(none)": "1.00000000",
    }

    by_day = summary(client, tenant_a, group_by="day").json()["rows"]
    total = sum(Decimal(r["cost"]) for r in by_day)
    assert total == Decimal("7")
    assert by_day == sorted(by_day, key=lambda r: r["key"])


def test_it_limits_to_the_requested_days(
    api: Callable[[Any], APIClient], tenant_a: Any, alice: Any
) -> None:
    old = datetime(2026, 1, 10, 12, tzinfo=UTC)
    add_record(tenant_a, old, model="m1", cost=Decimal("1"))
    add_record(tenant_a, old + timedelta(days=2), model="m1", cost=Decimal("2"))
    aggregate_tenant(tenant_a)

    body = summary(
        api(alice), tenant_a, group_by="day", start="2026-01-10", end="2026-01-11"
    ).json()

    assert body["start"] == "2026-01-10"
    assert [(r["key"], r["cost"]) for r in body["rows"]] == [("2026-01-10", "1.00000000")]


def test_it_rejects_bad_parameters(
    api: Callable[[Any], APIClient], tenant_a: Any, alice: Any
) -> None:
    client = api(alice)
    assert set(summary(client, tenant_a, group_by="planet").json()) == {"group_by"}
    assert set(summary(client, tenant_a, start="yesterday").json()) == {"start"}
    bad_order = summary(client, tenant_a, start="2026-02-02", end="2026-02-01")
    assert bad_order.status_code == 400
    assert set(bad_order.json()) == {"start"}
    too_long = summary(client, tenant_a, start="2020-01-01", end="2026-02-01")
    assert set(too_long.json()) == {"start"}
