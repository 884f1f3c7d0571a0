"""End to end: what `make run` runs (cloudfreedom.devserver) on an empty database serves the
site, passes /readyz, lets the printed staff login into the admin, runs the Celery worker
and beat, and stops all three on one Ctrl-C."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
from django.conf import settings

from tests.support.processes import ROOT, free_port


def _admin_dsn(dbname: str) -> str:
    db = settings.DATABASES["default"]
    user, host, port = db["USER"] or "postgres", db["HOST"] or "127.0.0.1", db["PORT"] or 5432
    return f"postgres://{user}@{host}:{port}/{dbname}"


@pytest.fixture
def empty_database() -> Iterator[str]:
    name = f"test_cf_makerun_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(_admin_dsn("postgres"), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield _admin_dsn(name)
    with psycopg.connect(_admin_dsn("postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Output:
    """Collects a process's output on a thread so we can wait for lines."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
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
            time.sleep(0.2)
        raise AssertionError(f"never saw {pattern!r}; last output:\n" + "\n".join(self.lines[-40:]))


def test_make_run_serves_a_seeded_site_and_stops_on_one_ctrl_c(
    empty_database: str, tmp_path: Path
) -> None:
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": empty_database,
        "REDIS_URL": settings.REDIS_URL.rsplit("/", 1)[0] + "/14",
        "PORT": str(port),
        "DJANGO_SETTINGS_MODULE": "cloudfreedom.settings.local",
        "CLOUDFREEDOM_SECRETS_FILE": str(tmp_path / "secrets.json"),
        "PYTHONPATH": str(ROOT),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "cloudfreedom.devserver"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    out = Output(proc)
    try:
        login = out.wait_for(r"Staff login \(shown once\): (\S+) / (\S+)", timeout=400)
        email, password = login.group(1), login.group(2)
        out.wait_for(r"serving on http://127\.0\.0\.1:", timeout=60)
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
        assert httpx.get(base + "/readyz").status_code == 200

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

        # The demo works offline: a key from the command, the seeded mock models.
        key = subprocess.run(
            [sys.executable, "manage.py", "create_api_key", "--tenant", "demo"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        headers = {"Authorization": f"Bearer {key}"}
        chat = httpx.post(
            base + "/v1/chat/completions",
            headers=headers,
            json={"model": "mock-gpt", "messages": [{"role": "user", "content": "Hello"}]},
        )
        assert chat.status_code == 200, chat.text
        assert chat.json()["choices"][0]["message"]["content"]
        assert chat.json()["system_fingerprint"] == "cloudfreedom-mock"
        embed = httpx.post(
            base + "/v1/embeddings", headers=headers, json={"model": "mock-embed", "input": "hi"}
        )
        assert embed.status_code == 200, embed.text
        models = httpx.get(base + "/v1/models", headers=headers).json()
        assert {"mock-gpt", "mock-claude", "mock-slow", "mock-embed"} <= {
            m["id"] for m in models["data"]
        }

        out.wait_for(r"celery@\S+ ready", timeout=60)  # the worker is up
        out.wait_for(r"beat: Starting", timeout=60)  # and beat
    finally:
        os.killpg(proc.pid, signal.SIGINT)  # what one Ctrl-C in a terminal does
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            raise
    time.sleep(0.5)
    leftovers = subprocess.run(
        ["pgrep", "-g", str(proc.pid)], capture_output=True, text=True
    ).stdout
    assert leftovers.strip() == "", "web, worker or beat outlived Ctrl-C"
    assert sum("Staff login (shown once)" in line for line in out.lines) == 1
