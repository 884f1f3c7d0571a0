"""SIGTERM while streams are in flight: the process ends them, and before it exits every
one has its usage record and settlement (the ASGI lifespan's shutdown hook drains them).

A real uvicorn process (lifespan on, as deployed), real streams from a fake upstream.
uvicorn waits `--timeout-graceful-shutdown` seconds for open responses, then cancels
them; without the shutdown hook the cancelled streams' records were lost with the loop.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import httpx
import pytest
from django.conf import settings
from django.core.management import call_command

from apps.billing.models import LedgerEntry, Reservation
from apps.gateway.background import BACKGROUND, SERVER_STOPPING, InFlightRequests
from tests.support import factories
from tests.support.live import World, auth, build_world, destroy_world, user_message
from tests.support.processes import ROOT, free_port

STREAMS = 50
PLAIN = 5


@pytest.fixture
def world(django_db_setup: Any, django_db_blocker: Any) -> Iterator[World]:
    with django_db_blocker.unblock():
        world = build_world()
        # Plain (not streamed) answers that take 30 s to start: in flight at the SIGTERM.
        slow = factories.route(
            factories.unique("gw-slow"), targets=[(world.created[0], "fake-slow-30000")]
        )
        world.product.allowed_models.add(slow)
        world.models["slow"] = slow.public_name
        try:
            yield world
        finally:
            destroy_world(world)


def _database_url() -> str:
    db = settings.DATABASES["default"]
    user, host, port = db["USER"] or "postgres", db["HOST"] or "127.0.0.1", db["PORT"] or 5432
    return f"postgres://{user}@{host}:{port}/{db['NAME']}"


def _start_server(port: int, log: IO[bytes]) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DJANGO_SETTINGS_MODULE": "cloudfreedom.settings.test",
        "DATABASE_URL": _database_url(),
        "LOG_LEVEL": "WARNING",
    }
    command = [sys.executable, "-m", "uvicorn", "cloudfreedom.asgi:application"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--lifespan", "on"]
    command += ["--timeout-graceful-shutdown", "1", "--log-level", "warning"]
    # Output to a file, not a pipe: a full pipe nobody reads would block the server.
    proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while True:
        if proc.poll() is not None:
            raise AssertionError("the server did not start (see its log)")
        try:
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return proc
        except httpx.HTTPError:
            assert time.monotonic() < deadline, "the server did not answer in time"
            time.sleep(0.1)


async def _streams(
    base: str, world: World, proc: subprocess.Popen[bytes]
) -> tuple[list[str], list[str]]:
    """Open STREAMS streams, read a chunk of each, SIGTERM the server, read to the end.
    Returns the request ids and each stream's last line."""
    ids: list[str] = []
    last_lines: list[str] = []
    refused: list[str] = []
    all_started = asyncio.Event()

    def started(outcome: str | None = None) -> None:
        if outcome is not None:
            refused.append(outcome)
        if len(ids) + len(refused) == STREAMS:
            all_started.set()

    async def one(client: httpx.AsyncClient) -> None:
        body = {"model": world.models["gpt"], "messages": user_message(), "stream": True}
        async with client.stream(
            "POST", base + "/v1/chat/completions", json=body, headers=auth(world.secret)
        ) as response:
            if response.status_code != 200:
                started(f"{response.status_code} {(await response.aread())[:300]!r}")
                return
            lines = response.aiter_lines()
            async for line in lines:
                if line.startswith("data: "):
                    break
            ids.append(response.headers["x-request-id"])
            started()
            last = ""
            try:
                async for line in lines:
                    last = line or last
            except httpx.HTTPError:
                last = "cut"
            last_lines.append(last)

    async def plain(client: httpx.AsyncClient) -> httpx.Response:
        body = {"model": world.models["slow"], "messages": user_message()}
        return await client.post(
            base + "/v1/chat/completions", json=body, headers=auth(world.secret)
        )

    limits = httpx.Limits(max_connections=STREAMS + PLAIN + 5)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        tasks = [asyncio.create_task(one(client)) for _ in range(STREAMS)]
        waiting = [asyncio.create_task(plain(client)) for _ in range(PLAIN)]
        await asyncio.wait_for(all_started.wait(), 60)
        assert not refused, refused
        await asyncio.sleep(0.5)  # the plain requests reached the upstream too
        proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(asyncio.gather(*tasks), 30)
        answers = await asyncio.wait_for(asyncio.gather(*waiting), 30)
    for answer in answers:
        # Told why, in the gateway's error shape (not the server's bare 500).
        assert answer.status_code == 503, answer.text
        assert answer.json()["error"]["code"] == "server_stopping"
    return ids, last_lines


def test_sigterm_during_50_streams_records_and_settles_every_one(
    world: World, django_db_blocker: Any, tmp_path: Path
) -> None:
    # Each stream would take 20 s: all of them are still running at the SIGTERM.
    world.fakes["openai"].control.set_default(chunks=100, chunk_delay=0.2, text="word " * 200)
    port = free_port()
    log_path = tmp_path / "server.log"
    with log_path.open("wb") as log:
        proc = _start_server(port, log)
        try:
            ids, last_lines = asyncio.run(_streams(f"http://127.0.0.1:{port}", world, proc))
            proc.wait(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    output = log_path.read_text()
    assert len(set(ids)) == STREAMS
    assert "shutdown_incomplete" not in output, output[-3000:]
    # Each client was told why its stream ended.
    assert all("server_stopping" in line for line in last_lines), last_lines
    with django_db_blocker.unblock():
        records = {r["request_id"]: r for r in world.usage_records()}
        reservations = {r.request_id: r for r in Reservation.objects.filter(request_id__in=ids)}
        entries = {
            e.request_id: e for e in LedgerEntry.objects.filter(request_id__in=ids, kind="usage")
        }
        for request_id in ids:
            record = records[request_id]  # the process wrote it before it exited
            assert record["status"] == "error" and record["error_type"] == "server_stopping"
            assert record["completion_tokens"] > 0 and record["cost"] > 0
            reservation = reservations[request_id]
            assert reservation.state == Reservation.State.SETTLED
            assert reservation.actual_cost == record["cost"]
            assert entries[request_id].amount == -record["cost"]
        # The plain requests reached the upstream: billed for their prompt, and settled.
        abandoned = [r for r in records.values() if r["model"] == world.models["slow"]]
        assert len(abandoned) == PLAIN
        for record in abandoned:
            assert record["status"] == "client_closed" and record["cost"] > 0
            reservation = Reservation.objects.get(request_id=record["request_id"])
            assert reservation.state == Reservation.State.SETTLED
        call_command("audit_ledger", tenant=[world.tenant.slug])  # exits 1 on a difference


def test_drain_waits_for_work_that_work_started() -> None:
    # A closed stream body schedules its relay's end, which schedules the usage record.
    async def run() -> list[int]:
        done: list[int] = []

        async def second() -> None:
            await asyncio.sleep(0.05)
            done.append(2)

        async def first() -> None:
            await asyncio.sleep(0.05)
            BACKGROUND.run(second())
            done.append(1)

        BACKGROUND.run(first())
        assert await BACKGROUND.drain(within=2) == 0
        return done

    assert asyncio.run(run()) == [1, 2]


def test_a_request_still_running_after_the_grace_is_stopped() -> None:
    async def run() -> tuple[int, list[Any]]:
        stopped: list[Any] = []

        async def request() -> None:
            try:
                await asyncio.sleep(60)
            except asyncio.CancelledError as exc:
                stopped.append(exc.args)
                raise

        requests = InFlightRequests()  # not the process's own: this one is stopped
        task = asyncio.create_task(request())
        requests.tasks.add(task)
        task.add_done_callback(requests.tasks.discard)
        await asyncio.sleep(0)
        left = await requests.finish(0.05, cancelled_grace=1)
        assert requests.stopping
        return left, stopped

    assert asyncio.run(run()) == (0, [(SERVER_STOPPING,)])
