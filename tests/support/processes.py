"""Start the real server as a subprocess for tests that need a process of its own."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def embedded_data_dir() -> Iterator[Path]:
    """A folder for `make run`'s embedded servers, outside pytest's temporary root.

    As root, pgserver runs PostgreSQL as the user `pgserver` and opens the path to its data
    for it; pytest's root (/tmp/pytest-of-root) is 0700 and every pytest session that
    starts resets it so, which would lock a running embedded server out of its files."""
    folder = Path(tempfile.mkdtemp(prefix="cf-embedded-"))
    folder.chmod(0o755)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def uvicorn_server(env_overrides: dict[str, str], timeout: float = 30.0) -> Iterator[str]:
    """Run `uvicorn cloudfreedom.asgi:application` on a free port; yield its base URL."""
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DJANGO_SETTINGS_MODULE": "cloudfreedom.settings.test",
    }
    env.update(env_overrides)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "cloudfreedom.asgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--lifespan",
            "on",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited: {proc.stdout.read().decode()[-2000:]}")
            try:
                httpx.get(base + "/healthz", timeout=1)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
