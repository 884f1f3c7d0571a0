"""Rolling per-request usage records up into hourly and daily buckets.

Correctness rests on three choices:
- whole buckets are recomputed from the raw records and written with ON CONFLICT DO UPDATE
  SET col = EXCLUDED.col (replace, never add), so running twice equals running once;
- the rows, the stale-row cleanup and the watermark move in ONE transaction per tenant, so a
  worker killed mid-run leaves the previous, still exact, state behind;
- each run starts from the watermark minus a safety margin, because a request's record
  carries its start time but commits when the request ends (and app clocks drift), so
  records arrive slightly out of order.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import connection, transaction

from apps.analytics.models import AggregationState, UsageRollup
from apps.tenants.models import Tenant
from apps.usage.models import UsageRecord

logger = logging.getLogger(__name__)

DEFAULT_SAFETY_MARGIN = timedelta(hours=1)
# "Since the beginning": earlier than any record can be.
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
SCHEMA_RE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")

# Status values that count as errors in rollups. A client that hung up is not our error.
ERROR_STATUSES = UsageRecord.ERROR_STATUSES

SUM_COLUMNS = (
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
_GROUP_COLUMNS = ("model", "api_key_id", "member_id", "provider")
_CONFLICT = "(tenant_id, granularity, bucket, model, api_key_id, member_id, provider)"
_REPLACE = ", ".join(f"{c} = EXCLUDED.{c}" for c in (*SUM_COLUMNS, "updated_at"))
_INSERT_COLUMNS = (
    "granularity, bucket, tenant_id, "
    + ", ".join(_GROUP_COLUMNS)
    + ", "
    + ", ".join(SUM_COLUMNS)
    + ", updated_at"
)


@dataclass(frozen=True)
class AggregationStats:
    tenant_id: int
    since: datetime
    watermark: datetime
    hourly_rows: int
    daily_rows: int
    stale_rows_deleted: int


def safety_margin() -> timedelta:
    return getattr(settings, "ANALYTICS_SAFETY_MARGIN", DEFAULT_SAFETY_MARGIN)


def _qualified(schema: str, table: str) -> str:
    # Schema names come from our own slug rules; the check keeps this SQL safe regardless.
    if not SCHEMA_RE.match(schema):
        raise ValueError(f"Unexpected schema name {schema!r}")
    quote = connection.ops.quote_name
    return f"{quote(schema)}.{quote(table)}"


def _floor_hour(value: datetime) -> datetime:
    return value.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def _lock_state(tenant: Tenant) -> tuple[datetime | None, datetime]:
    """Lock the tenant's state row (serialising concurrent runs) and read the clock.

    The clock is read after the lock, so each run's timestamp is later than the previous
    run's: rows this run did not rewrite can be told apart by `updated_at < run_ts`.
    """
    AggregationState.objects.get_or_create(tenant=tenant)
    state = AggregationState.objects.select_for_update().get(tenant=tenant)
    with connection.cursor() as cur:
        cur.execute("SELECT clock_timestamp()")
        run_ts: datetime = cur.fetchone()[0]
    return state.watermark, run_ts


def _upsert_hourly(tenant: Tenant, since: datetime, run_ts: datetime) -> int:
    records = _qualified(tenant.schema_name, UsageRecord._meta.db_table)
    rollups = _qualified(settings.PUBLIC_SCHEMA_NAME, UsageRollup._meta.db_table)
    sql = f"""
        INSERT INTO {rollups} ({_INSERT_COLUMNS})
        SELECT 'hour', date_trunc('hour', r.created_at, 'UTC'), %(tenant_id)s,
               r.model, COALESCE(r.api_key_id, 0), COALESCE(r.member_id, 0), r.provider,
               count(*), count(*) FILTER (WHERE r.status = ANY(%(error_statuses)s)),
               COALESCE(sum(r.prompt_tokens), 0), COALESCE(sum(r.completion_tokens), 0),
               COALESCE(sum(r.cached_tokens), 0), COALESCE(sum(r.cost), 0),
               COALESCE(sum(r.latency_ms), 0), COALESCE(sum(r.ttft_ms), 0), count(r.ttft_ms),
               %(run_ts)s
        FROM {records} r
        WHERE r.created_at >= %(since)s
        GROUP BY 2, 4, 5, 6, 7
        ON CONFLICT {_CONFLICT} DO UPDATE SET {_REPLACE}
    """  # noqa: S608 - identifiers are validated and quoted, values are parameters
    params = {
        "tenant_id": tenant.pk,
        "since": since,
        "run_ts": run_ts,
        "error_statuses": list(ERROR_STATUSES),
    }
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return cur.rowcount


def _upsert_daily(tenant: Tenant, day_since: datetime, run_ts: datetime) -> int:
    """Days are summed from the (just recomputed) hours, so both granularities agree."""
    rollups = _qualified(settings.PUBLIC_SCHEMA_NAME, UsageRollup._meta.db_table)
    sums = ", ".join(f"sum(h.{c})" for c in SUM_COLUMNS)
    sql = f"""
        INSERT INTO {rollups} ({_INSERT_COLUMNS})
        SELECT 'day', date_trunc('day', h.bucket, 'UTC'), h.tenant_id,
               h.model, h.api_key_id, h.member_id, h.provider, {sums}, %(run_ts)s
        FROM {rollups} h
        WHERE h.tenant_id = %(tenant_id)s AND h.granularity = 'hour'
          AND h.bucket >= %(since)s
        GROUP BY 2, 3, 4, 5, 6, 7
        ON CONFLICT {_CONFLICT} DO UPDATE SET {_REPLACE}
    """  # noqa: S608 - identifiers are validated and quoted, values are parameters
    with connection.cursor() as cur:
        cur.execute(sql, {"tenant_id": tenant.pk, "since": day_since, "run_ts": run_ts})
        return cur.rowcount


def _delete_stale(tenant: Tenant, granularity: str, since: datetime, run_ts: datetime) -> int:
    """Drop rows of recomputed buckets whose group no longer has any record.

    Records are append-only in practice, but a record rewritten after the fact (a late
    provider or member fix) must not leave its old group behind.
    """
    deleted, _ = UsageRollup.objects.filter(
        tenant=tenant, granularity=granularity, bucket__gte=since, updated_at__lt=run_ts
    ).delete()
    return deleted


def aggregate_tenant(tenant: Tenant, *, full: bool = False) -> AggregationStats:
    """Recompute every hourly and daily bucket touched since the watermark (minus the margin).

    `full=True` rebuilds the tenant's rollups from all of its records (repairs anything,
    e.g. records that committed later than the safety margin allows).
    """
    with transaction.atomic():
        watermark, run_ts = _lock_state(tenant)
        if full or watermark is None:
            since = EPOCH
        else:
            since = _floor_hour(watermark - safety_margin())
        day_since = since.replace(hour=0)
        hourly = _upsert_hourly(tenant, since, run_ts)
        stale = _delete_stale(tenant, UsageRollup.Granularity.HOUR, since, run_ts)
        daily = _upsert_daily(tenant, day_since, run_ts)
        stale += _delete_stale(tenant, UsageRollup.Granularity.DAY, day_since, run_ts)
        new_watermark = max(watermark, run_ts) if watermark else run_ts
        AggregationState.objects.filter(tenant=tenant).update(
            watermark=new_watermark, last_run_at=run_ts
        )
    stats = AggregationStats(
        tenant_id=tenant.pk,
        since=since,
        watermark=new_watermark,
        hourly_rows=hourly,
        daily_rows=daily,
        stale_rows_deleted=stale,
    )
    logger.info(
        "analytics.aggregated tenant=%s since=%s hourly_rows=%s daily_rows=%s stale=%s",
        tenant.slug,
        since.isoformat(),
        hourly,
        daily,
        stale,
    )
    return stats
