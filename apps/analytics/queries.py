"""Reading usage back: per-tenant summaries from the rollups plus the not-yet-rolled tail.

Hourly rollups cover every whole hour before the tenant's watermark hour; the records of
that hour onwards are read raw from the tenant's schema, so a summary is current without
waiting for the next aggregation run and never counts a request twice.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Count, F, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce, TruncDate
from django_tenants.utils import schema_context

from apps.analytics.models import NONE_ID, AggregationState, UsageRollup
from apps.analytics.services import ERROR_STATUSES, SUM_COLUMNS
from apps.keys.models import ApiKey
from apps.tenants.models import Membership, Tenant
from apps.usage.models import UsageRecord

GROUP_BY = ("day", "model", "key", "member")


@dataclass
class SummaryRow:
    key: str | None  # the group's value: a date, a model name, a key or membership id
    label: str
    requests: int = 0
    errors: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    cost: Decimal = Decimal(0)
    latency_ms_total: int = 0
    ttft_ms_total: int = 0
    ttft_count: int = 0

    def add(self, values: dict[str, Any]) -> None:
        for name in SUM_COLUMNS:
            setattr(self, name, getattr(self, name) + (values[name] or 0))

    @property
    def avg_latency_ms(self) -> float | None:
        return round(self.latency_ms_total / self.requests, 1) if self.requests else None

    @property
    def avg_ttft_ms(self) -> float | None:
        return round(self.ttft_ms_total / self.ttft_count, 1) if self.ttft_count else None


def _rollup_rows(tenant: Tenant, group_by: str, start: datetime, end: datetime) -> QuerySet[Any]:
    qs = UsageRollup.objects.filter(
        tenant=tenant,
        granularity=UsageRollup.Granularity.HOUR,
        bucket__gte=start,
        bucket__lt=end,
    )
    group = {
        "day": TruncDate("bucket", tzinfo=UTC),
        "model": F("model"),
        "key": F("api_key_id"),
        "member": F("member_id"),
    }[group_by]
    return (
        qs.annotate(group=group)
        .values("group")
        .annotate(**{name: Sum(name) for name in SUM_COLUMNS})
        .order_by()
    )


def _raw_rows(tenant: Tenant, group_by: str, start: datetime, end: datetime) -> list[Any]:
    group = {
        "day": TruncDate("created_at", tzinfo=UTC),
        "model": F("model"),
        "key": Coalesce("api_key_id", Value(NONE_ID)),
        "member": Coalesce("member_id", Value(NONE_ID)),
    }[group_by]
    with schema_context(tenant.schema_name):
        qs = (
            UsageRecord.objects.filter(created_at__gte=start, created_at__lt=end)
            .annotate(group=group)
            .values("group")
            .annotate(
                requests=Count("id"),
                errors=Count("id", filter=Q(status__in=ERROR_STATUSES)),
                prompt_tokens=Sum("prompt_tokens"),
                completion_tokens=Sum("completion_tokens"),
                cached_tokens=Sum("cached_tokens"),
                cost=Sum("cost"),
                latency_ms_total=Sum("latency_ms"),
                ttft_ms_total=Sum("ttft_ms"),
                ttft_count=Count("ttft_ms"),
            )
            .order_by()
        )
        return list(qs)


def _labels(tenant: Tenant, group_by: str, ids: Iterable[Any]) -> dict[Any, str]:
    wanted = [i for i in ids if i]
    if group_by == "key":
        # Filtered by tenant: a rollup can only name this tenant's keys, but be sure.
        rows = ApiKey.objects.filter(tenant=tenant, pk__in=wanted).values_list("pk", "prefix")
        return dict(rows)
    if group_by == "member":
        rows = Membership.objects.filter(tenant=tenant, pk__in=wanted).values_list(
            "pk", "user__email"
        )
        return dict(rows)
    return {}


def usage_summary(tenant: Tenant, *, group_by: str, start: date, end: date) -> list[SummaryRow]:
    """Usage of the tenant from `start` to `end` (whole UTC days, both included)."""
    if group_by not in GROUP_BY:
        raise ValueError(f"group_by must be one of {GROUP_BY}")
    start_at = datetime.combine(start, time.min, tzinfo=UTC)
    end_at = datetime.combine(end + timedelta(days=1), time.min, tzinfo=UTC)
    watermark = (
        AggregationState.objects.filter(tenant=tenant).values_list("watermark", flat=True).first()
    )
    # Rollups of the watermark's own hour are partial: read that hour on from raw records.
    boundary = (
        watermark.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        if watermark
        else start_at
    )
    boundary = min(max(boundary, start_at), end_at)

    merged: dict[Any, SummaryRow] = {}
    sources = [
        _rollup_rows(tenant, group_by, start_at, boundary),
        _raw_rows(tenant, group_by, boundary, end_at),
    ]
    for source in sources:
        for values in source:
            group = values["group"]
            row = merged.setdefault(group, SummaryRow(key=None, label=""))
            row.add(values)
    labels = _labels(tenant, group_by, merged)
    rows: list[SummaryRow] = []
    for group, row in merged.items():
        if group_by == "day":
            row.key = row.label = group.isoformat()
        elif group_by == "model":
            row.key = row.label = group
        else:
            row.key = str(group) if group != NONE_ID else None
            row.label = labels.get(group, "(none)" if group == NONE_ID else "(deleted)")
        rows.append(row)
    if group_by == "day":
        rows.sort(key=lambda r: r.label)
    else:
        rows.sort(key=lambda r: (-r.cost, r.label))
    return rows
