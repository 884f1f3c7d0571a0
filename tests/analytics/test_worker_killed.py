"""A real worker process killed with SIGKILL in the middle of its aggregation transaction.

The data must be committed for another process to see it, so this test does not run inside
the usual rolled-back test transaction: it creates its own tenant and drops it afterwards.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.conf import settings
from django.db import connection

from apps.analytics.models import AggregationState, UsageRollup
from apps.analytics.services import aggregate_tenant
from apps.tenants.models import Tenant
from apps.tenants.services import schema_name_for
from tests.analytics.conftest import actual, add_record, assert_exact

ROOT = Path(__file__).resolve().parents[2]
WORKER = (
    "import django; django.setup(); "
    "from apps.analytics.tasks import aggregate_usage; aggregate_usage()"
)


def _dsn() -> str:
    s = connection.settings_dict
    host, port = s["HOST"] or "127.0.0.1", s["PORT"] or 5432
    return f"host={host} port={port} user={s['USER']} dbname={s['NAME']}"


@pytest.fixture
def committed_tenant(django_db_setup: Any, django_db_blocker: Any) -> Iterator[Tenant]:
    # The suite's `django_db_setup` points the connection at the test database even when
    # no collected test uses `db` (tests/conftest.py). Never write anywhere else: fail.
    assert connection.settings_dict["NAME"] == settings.DATABASES["default"]["TEST"]["NAME"]
    with django_db_blocker.unblock():
        slug = f"killed-{uuid.uuid4().hex[:8]}"
        # No create_tenant: its signal would write ledger rows, which are append-only and
        # could not be cleaned up. A row and a cloned schema are all aggregation needs.
        connection.set_schema_to_public()  # an earlier test may have left a tenant's set
        tenant = Tenant.objects.create(name="Killed", slug=slug, schema_name=schema_name_for(slug))
        tenant.create_schema(check_if_exists=False, verbosity=0)
        connection.set_schema_to_public()
        try:
            yield tenant
        finally:
            connection.set_schema_to_public()
            tenant.delete(force_drop=True)


def _wait_for(query: str, params: tuple[Any, ...], timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    with psycopg.connect(_dsn(), autocommit=True) as watcher:
        while time.monotonic() < deadline:
            row = watcher.execute(query, params).fetchone()
            if row is not None:
                return row
            time.sleep(0.05)
    raise AssertionError(f"timed out waiting for: {query}")


def test_a_worker_killed_mid_run_leaves_exact_rollups_after_the_rerun(
    committed_tenant: Tenant, django_db_blocker: Any
) -> None:
    tenant = committed_tenant
    now = datetime.now(UTC)
    with django_db_blocker.unblock():
        for i in range(5):
            add_record(tenant, now - timedelta(minutes=30 + i), model="before")
        aggregate_tenant(tenant)
        before = actual(tenant, "hour"), actual(tenant, "day")
        watermark = AggregationState.objects.get(tenant=tenant).watermark
        for i in range(5):
            add_record(tenant, now - timedelta(seconds=i), model="after")
        day_row = UsageRollup.objects.filter(tenant=tenant, granularity="day", model="before").get()

    # Hold the day row, so the worker blocks after writing its hourly rows.
    with psycopg.connect(_dsn()) as holder:
        holder.execute(
            "SELECT 1 FROM public.analytics_usagerollup WHERE id = %s FOR UPDATE", (day_row.pk,)
        )
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "DJANGO_SETTINGS_MODULE": "cloudfreedom.settings.test",
            "DATABASE_URL": "postgres://{USER}@{HOST}:{PORT}/{NAME}".format(
                **{**connection.settings_dict, "HOST": "127.0.0.1", "PORT": 5432}
            ),
        }
        worker = subprocess.Popen([sys.executable, "-c", WORKER], cwd=ROOT, env=env)
        try:
            (pid,) = _wait_for(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND query LIKE %s",
                ("%SELECT 'day'%",),
            )
        finally:
            worker.send_signal(signal.SIGKILL)
            worker.wait(timeout=10)
        holder.rollback()

    # The orphaned backend finishes its statement, finds its client gone and rolls back.
    _wait_for("SELECT 1 WHERE NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = %s)", (pid,))
    with django_db_blocker.unblock():
        assert (actual(tenant, "hour"), actual(tenant, "day")) == before
        assert AggregationState.objects.get(tenant=tenant).watermark == watermark

        aggregate_tenant(tenant)
        assert_exact(tenant)
        assert {key[1] for key in actual(tenant, "day")} == {"before", "after"}
