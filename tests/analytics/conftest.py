"""Helpers for the aggregation tests: raw records in a tenant schema and their exact sums."""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django_tenants.utils import schema_context

from apps.analytics.models import UsageRollup
from apps.analytics.services import ERROR_STATUSES
from apps.tenants.models import Tenant
from apps.usage.models import UsageRecord

_ids = itertools.count(1)
SUM_FIELDS = (
    "requests",
    "errors",
    "prompt_tokens",
    "completion_tokens",
    "cached_tokens",
    "cost",
    "latency_ms_total",
    "ttft_ms_total",
    "ttft_count",
)


def add_record(tenant: Tenant, created_at: datetime, **extra: Any) -> UsageRecord:
    n = next(_ids)
    fields: dict[str, Any] = {
        "request_id": f"req-{tenant.slug}-{n}",
        "created_at": created_at,
        "endpoint": "chat",
        "model": "m1",
        "provider": "mock",
        "status": "success",
        "prompt_tokens": 10 + n,
        "completion_tokens": 5 + n,
        "cached_tokens": n % 3,
        "cost": Decimal("0.00012345") * n,
        "latency_ms": 100 + n,
        "ttft_ms": 20 + n if n % 2 else None,
    }
    fields.update(extra)
    with schema_context(tenant.schema_name):
        return UsageRecord.objects.create(**fields)


def expected(tenant: Tenant, granularity: str) -> dict[tuple[Any, ...], dict[str, Any]]:
    """The rollup rows the raw records imply, computed in Python."""
    with schema_context(tenant.schema_name):
        records = list(UsageRecord.objects.all())
    out: dict[tuple[Any, ...], dict[str, Any]] = defaultdict(
        lambda: dict.fromkeys(SUM_FIELDS, 0) | {"cost": Decimal(0)}
    )
    for r in records:
        at = r.created_at.astimezone(UTC)
        bucket = at.replace(minute=0, second=0, microsecond=0)
        if granularity == "day":
            bucket = bucket.replace(hour=0)
        key = (bucket, r.model, r.api_key_id or 0, r.member_id or 0, r.provider)
        row = out[key]
        row["requests"] += 1
        row["errors"] += int(r.status in ERROR_STATUSES)
        row["prompt_tokens"] += r.prompt_tokens
        row["completion_tokens"] += r.completion_tokens
        row["cached_tokens"] += r.cached_tokens
        row["cost"] += r.cost
        row["latency_ms_total"] += r.latency_ms
        if r.ttft_ms is not None:
            row["ttft_ms_total"] += r.ttft_ms
            row["ttft_count"] += 1
    return dict(out)


def actual(tenant: Tenant, granularity: str) -> dict[tuple[Any, ...], dict[str, Any]]:
    rows = UsageRollup.objects.filter(tenant=tenant, granularity=granularity)
    return {
        (r.bucket, r.model, r.api_key_id, r.member_id, r.provider): {
            f: getattr(r, f) for f in SUM_FIELDS
        }
        for r in rows
    }


def assert_exact(tenant: Tenant) -> None:
    for granularity in ("hour", "day"):
        assert actual(tenant, granularity) == expected(tenant, granularity), granularity


@pytest.fixture
def populate() -> Callable[[Tenant], None]:
    """A mixed history over three days: models, keys, members, providers, errors, NULLs."""

    def _populate(tenant: Tenant) -> None:
        base = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(days=2)
        for i in range(40):
            add_record(
                tenant,
                base + timedelta(minutes=47 * i),
                model=("m1", "m2")[i % 2],
                api_key_id=(None, 11, 12)[i % 3],
                member_id=(None, 21)[i % 2 if i % 5 else 0],
                provider=("mock", "openai", "")[i % 3 if i % 4 else 0],
                status=("success", "error", "client_closed", "incomplete")[i % 4],
            )

    return _populate
