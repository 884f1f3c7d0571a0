"""End to end, as a newcomer: what `make run` runs (cloudfreedom.devserver) with PostgreSQL,
Redis or both unreachable starts embedded ones, migrates and seeds, serves; then a second
process follows the README (create_api_key, a chat completion, a streamed one, embeddings,
/readyz, audit_ledger) without being told where the servers are; one Ctrl-C stops web,
worker, beat and the embedded servers.

The "unreachable" servers are the defaults the devserver probes, pointed at closed ports
(CLOUDFREEDOM_LOCAL_DATABASE_URL / CLOUDFREEDOM_LOCAL_REDIS_URL). The runs without a local
PostgreSQL share one embedded data folder, as a developer's second `make run` would: the
first pays for the first start, the second shows a restart.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil
import psycopg
import pytest
from django.conf import settings

from cloudfreedom import runtime
from tests.support.processes import ROOT, embedded_data_dir, free_port

# Where the README's commands must find the servers by themselves.
SERVER_VARIABLES = {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}


@dataclass(frozen=True)
class Scenario:
    id: str
    local_postgres: bool  # a PostgreSQL answers where `make run` looks first
    local_redis: bool


SCENARIOS = [
    Scenario("nothing-reachable", local_postgres=False, local_redis=False),
    Scenario("only-redis-missing", local_postgres=True, local_redis=False),
    Scenario("only-postgres-missing", local_postgres=False, local_redis=True),
]


def _admin_dsn(dbname: str) -> str:
    db = settings.DATABASES["default"]
    user, host, port = db["USER"] or "postgres", db["HOST"] or "127.0.0.1", db["PORT"] or 5432
    return f"postgres://{user}@{host}:{port}/{dbname}"


@pytest.fixture(scope="module")
def shared_state() -> Iterator[dict[str, object]]:
    """One embedded data folder, secrets file and static root for the module, and the
    staff login its first start printed (shown once: a restart does not print it again)."""
    with embedded_data_dir() as folder:
        yield {
            "data": folder / "embedded",
            "secrets": folder / "secrets.json",
            "static": folder / "static",
            "logins": {},
        }


@pytest.fixture
def local_database() -> Iterator[str]:
    """The URL of a database that does not exist yet on the machine's PostgreSQL: `make
    run` creates it, as it creates `cloudfreedom` on a developer's server."""
    name = f"test_cf_makerun_{uuid.uuid4().hex[:8]}"
    yield _admin_dsn(name)
    with psycopg.connect(_admin_dsn("postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Output:
    """Collects a process's output on a thread so we can wait for lines."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        self.proc = proc
        self.lines: list[str] = []
        self._thread = threading.Thread(target=self._read, args=(proc,), daemon=True)
        self._thread.start()

    def _read(self, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stdout is not None
        for raw in proc.stdout:
            self.lines.append(raw.decode(errors="replace").rstrip())

    def wait_for(self, pattern: str, timeout: float) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.lines):
                match = re.search(pattern, line)
                if match:
                    return match
            if self.proc.poll() is not None:
                time.sleep(0.5)  # the reader thread takes the last lines
                break
            time.sleep(0.2)
        raise AssertionError(f"never saw {pattern!r}; last output:\n" + "\n".join(self.lines[-60:]))


def _second_terminal(data: Path, secrets: Path) -> dict[str, str]:
    """A new shell in the checkout: no DATABASE_URL, no REDIS_URL."""
    env = {k: v for k, v in os.environ.items() if k not in SERVER_VARIABLES}
    env.update(
        CLOUDFREEDOM_DATA_DIR=str(data),
        CLOUDFREEDOM_SECRETS_FILE=str(secrets),
        PYTHONPATH=str(ROOT),
    )
    return env


def _manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _gone(pid: int, timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.id for s in SCENARIOS])
def test_make_run_serves_the_readme_from_a_second_terminal_and_stops_on_one_ctrl_c(
    scenario: Scenario,
    shared_state: dict[str, object],
    local_database: str,
    tmp_path: Path,
) -> None:
    data = shared_state["data"] if not scenario.local_postgres else tmp_path / "data"
    static_root = shared_state["static"]  # collected once, not into the checkout
    assert isinstance(data, Path)
    secrets = shared_state["secrets"]
    assert isinstance(secrets, Path)
    logins = shared_state["logins"]
    assert isinstance(logins, dict)
    closed = free_port()
    port = free_port()
    env = _second_terminal(data, secrets)
    env.update(
        PORT=str(port),
        DJANGO_STATIC_ROOT=str(static_root),
        CLOUDFREEDOM_LOCAL_DATABASE_URL=(
            local_database
            if scenario.local_postgres
            else f"postgres://postgres@127.0.0.1:{closed}/cloudfreedom"
        ),
        CLOUDFREEDOM_LOCAL_REDIS_URL=(
            settings.REDIS_URL if scenario.local_redis else f"redis://127.0.0.1:{closed}/0"
        ),
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "cloudfreedom.devserver"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    out = Output(proc)
    embedded_pid = None
    try:
        started = out.wait_for(r"started in ([\d.]+) s \(install excluded\): (.*)", timeout=600)
        for phase in ("install", "database", "redis", "migrations", "seed", "static files"):
            assert f"{phase} " in started.group(2), started.group(0)
        print(started.group(0))  # the phases' times, in the test log
        shown = re.compile(r"Staff login \(shown once\): (\S+) / (\S+)")
        login = next((m for line in out.lines if (m := shown.search(line))), None)
        if login:
            logins[data] = (login.group(1), login.group(2))
        email, password = logins[data]
        out.wait_for(r"serving on http://127\.0\.0\.1:", timeout=60)

        # What `make run` chose, for every other command.
        stored = runtime.read(data)
        embedded = set(filter(None, stored[runtime.EMBEDDED_KEY].split(",")))
        expected = {"postgres"} if not scenario.local_postgres else set()
        expected |= {"redis"} if not scenario.local_redis else set()
        assert embedded == expected
        if "postgres" in embedded:
            pidfile = data / "postgres" / "postmaster.pid"
            embedded_pid = int(pidfile.read_text().split()[0])

        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                home = httpx.get(base + "/", timeout=5)
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline, "\n".join(out.lines[-40:])
                time.sleep(0.3)
        assert home.status_code == 200
        assert "Starter" in home.text and "Pro" in home.text  # pricing from the seeded plans
        ready = httpx.get(base + "/readyz", timeout=10)
        assert ready.status_code == 200, ready.text
        assert ready.json()["checks"] == {"database": "ok", "redis": "ok"}

        with httpx.Client(base_url=base, follow_redirects=False) as client:
            client.get("/admin/login/")
            token = client.cookies["csrftoken"]
            response = client.post(
                "/admin/login/?next=/admin/",
                data={"username": email, "password": password, "csrfmiddlewaretoken": token},
                headers={"Referer": base + "/admin/login/"},
            )
            assert response.status_code == 302, response.text[:500]
            assert "Site administration" in client.get("/admin/").text

        # The README, from a second terminal that was told nothing.
        second = _second_terminal(data, secrets)
        made = _manage(second, "create_api_key", "--tenant", "demo", "--name", "readme")
        assert made.returncode == 0, made.stderr
        key = made.stdout.strip()
        headers = {"Authorization": f"Bearer {key}"}
        chat = httpx.post(
            base + "/v1/chat/completions",
            headers=headers,
            json={"model": "mock-gpt", "messages": [{"role": "user", "content": "Hello"}]},
            timeout=30,
        )
        assert chat.status_code == 200, chat.text  # the plan's RPM/TPM limits apply
        assert chat.json()["choices"][0]["message"]["content"]
        assert chat.json()["system_fingerprint"] == "cloudfreedom-mock"
        events = []
        with httpx.stream(
            "POST",
            base + "/v1/chat/completions",
            headers=headers,
            json={
                "model": "mock-gpt",
                "stream": True,
                "messages": [{"role": "user", "content": "Hello"}],
            },
            timeout=30,
        ) as stream:
            assert stream.status_code == 200
            events = [line[6:] for line in stream.iter_lines() if line.startswith("data: ")]
        assert events[-1] == "[DONE]"
        text = "".join(
            (json.loads(e)["choices"] or [{}])[0].get("delta", {}).get("content") or ""
            for e in events[:-1]
        )
        assert "Hello" in text
        embed = httpx.post(
            base + "/v1/embeddings",
            headers=headers,
            json={"model": "mock-embed", "input": "hi"},
            timeout=30,
        )
        assert embed.status_code == 200, embed.text
        assert embed.json()["data"][0]["embedding"]

        # Usage is recorded off the request path: give it a moment, then the books agree.
        deadline = time.monotonic() + 20
        while (audit := _manage(second, "audit_ledger")).returncode != 0:
            assert time.monotonic() < deadline, audit.stdout + audit.stderr
            time.sleep(1)
        assert audit.stdout.startswith("OK"), audit.stdout

        out.wait_for(r"celery@\S+ ready", timeout=120)  # the worker is up
        out.wait_for(r"beat: Starting", timeout=60)  # and beat
    finally:
        os.killpg(proc.pid, signal.SIGINT)  # what one Ctrl-C in a terminal does
        try:
            proc.wait(timeout=90)  # devserver's own grace is 60 s
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            raise
    time.sleep(0.5)
    leftovers = subprocess.run(
        ["pgrep", "-g", str(proc.pid)], capture_output=True, text=True
    ).stdout
    assert leftovers.strip() == "", "web, worker or beat outlived Ctrl-C"
    assert proc.returncode == 0, "\n".join(out.lines[-20:])
    # The embedded servers live in sessions of their own: they are stopped, not orphaned.
    if "redis" in embedded:
        assert not runtime.redis_answers(stored["REDIS_URL"])
    if embedded_pid is not None:
        assert _gone(embedded_pid), "the embedded PostgreSQL outlived Ctrl-C"
        assert not runtime.postgres_answers(stored["DATABASE_URL"])
        # ...and the commands say so instead of waiting for a timeout.
        after = _manage(_second_terminal(data, secrets), "audit_ledger")
        assert after.returncode == 1
        assert "embedded PostgreSQL started by `make run` is not running" in after.stderr
    assert sum("Staff login (shown once)" in line for line in out.lines) <= 1
