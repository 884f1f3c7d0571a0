from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.db import connection
from django_tenants.utils import schema_context

from apps.usage.models import UsageRecord


def _record(request_id: str) -> UsageRecord:
    return UsageRecord.objects.create(
        request_id=request_id,
        created_at=datetime.now(UTC),
        endpoint="chat",
        model="m",
        status="success",
    )


def test_it_keeps_each_tenants_rows_in_its_own_schema(tenant_a: Any, tenant_b: Any) -> None:
    with schema_context(tenant_a.schema_name):
        _record("req-a")
    with schema_context(tenant_b.schema_name):
        _record("req-b")

    with schema_context(tenant_a.schema_name):
        assert list(UsageRecord.objects.values_list("request_id", flat=True)) == ["req-a"]
    with schema_context(tenant_b.schema_name):
        assert list(UsageRecord.objects.values_list("request_id", flat=True)) == ["req-b"]


def test_it_has_no_tenant_rows_in_the_public_schema(tenant_a: Any) -> None:
    with schema_context(tenant_a.schema_name):
        _record("req-a2")
    with connection.cursor() as cur:
        cur.execute(
            "SELECT count(*) FROM information_schema.tables "
            "WHERE table_schema = 'public' AND table_name = 'usage_usagerecord'"
        )
        assert cur.fetchone()[0] == 0
