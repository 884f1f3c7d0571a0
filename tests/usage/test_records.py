"""The one usage-record writer: its columns are the model's, and a first write wins."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from django_tenants.utils import schema_context

from apps.usage.models import UsageRecord
from apps.usage.records import COLUMNS, UsageRow, write_usage_sync


def test_it_names_every_column_of_the_model() -> None:
    model_columns = [f.column for f in UsageRecord._meta.concrete_fields if not f.primary_key]
    assert list(COLUMNS) == model_columns
    assert {f.name for f in dataclasses.fields(UsageRow)} == set(model_columns)


def test_it_writes_every_field_once(tenant_a: Any, bob: Any) -> None:
    at = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    row = UsageRow(
        request_id="req_sync_1",
        created_at=at,
        endpoint="chat",
        model="m1",
        status="success",
        api_key_id=7,
        api_key_prefix="cfk-1",
        member_id=3,
        user_id=bob.pk,
        provider="mock",
        upstream_model="u1",
        attempts=2,
        attempt_log=[{"provider": "mock", "status": 500}],
        prompt_tokens=11,
        completion_tokens=5,
        cached_tokens=1,
        cache_write_tokens=2,
        usage_reported=False,
        cost=Decimal("0.00012345"),
        error_type="",
        http_status=200,
        latency_ms=40,
        ttft_ms=12,
        streamed=True,
    )
    assert write_usage_sync(tenant_a.schema_name, row) is True
    again = dataclasses.replace(row, cost=Decimal(9), status="error")
    assert write_usage_sync(tenant_a.schema_name, again) is False
    with schema_context(tenant_a.schema_name):
        stored = UsageRecord.objects.get(request_id="req_sync_1")
    assert {c: getattr(stored, c) for c in COLUMNS} == dataclasses.asdict(row)
