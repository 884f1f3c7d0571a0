"""usage.summary.period_summary: one tenant's records from a moment on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from django_tenants.utils import schema_context

from apps.usage.models import UsageRecord
from apps.usage.summary import PeriodSummary, period_summary

NOW = datetime.now(UTC)


def _record(request_id: str, at: datetime, status: str = "success", **extra: Any) -> None:
    UsageRecord.objects.create(
        request_id=request_id, created_at=at, endpoint="chat", model="m", status=status, **extra
    )


def test_it_sums_the_tenants_records_since_the_moment(tenant_a: Any, tenant_b: Any) -> None:
    with schema_context(tenant_a.schema_name):
        _record("before", NOW - timedelta(days=40), prompt_tokens=1000, cost=Decimal("9"))
        _record("ok", NOW, prompt_tokens=12, completion_tokens=7, cost=Decimal("0.00012345"))
        _record("failed", NOW, status="error")
        _record("died", NOW, status="incomplete", prompt_tokens=3, cost=Decimal("0.00000010"))
        _record("left", NOW, status="client_closed", completion_tokens=2)
    with schema_context(tenant_b.schema_name):
        _record("other tenant", NOW, prompt_tokens=500, cost=Decimal("1"))

    summary = period_summary(tenant_a, NOW - timedelta(days=1))

    assert summary == PeriodSummary(
        requests=4, errors=2, prompt_tokens=15, completion_tokens=9, cost=Decimal("0.00012355")
    )
    assert summary.tokens == 24


def test_it_is_zero_without_records(tenant_a: Any) -> None:
    assert period_summary(tenant_a, NOW) == PeriodSummary(0, 0, 0, 0, Decimal(0))
