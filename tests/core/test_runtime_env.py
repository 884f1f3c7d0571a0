"""Every command finds the servers `make run` chose (.data/runtime.env), and names the cause
when an embedded one is not running instead of waiting out the pool's timeout."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cloudfreedom import runtime
from tests.support.processes import ROOT, free_port


def test_the_environment_wins_over_the_runtime_file(tmp_path: Path) -> None:
    runtime.write({"DATABASE_URL": "postgres://file/db", "REDIS_URL": "redis://file/0"}, tmp_path)
    chosen = runtime.resolve({"DATABASE_URL": "postgres://env/db", "REDIS_URL": ""}, tmp_path)
    assert chosen == {"DATABASE_URL": "postgres://env/db", "REDIS_URL": ""}


def test_the_runtime_file_is_used_when_the_environment_is_silent(tmp_path: Path) -> None:
    runtime.write({"DATABASE_URL": "postgres://file/db", "REDIS_URL": "redis://file/0"}, tmp_path)
    assert runtime.resolve({}, tmp_path) == {
        "DATABASE_URL": "postgres://file/db",
        "REDIS_URL": "redis://file/0",
    }


def test_without_a_runtime_file_the_local_defaults_apply(tmp_path: Path) -> None:
    # A fresh clone on CI: no .data at all.
    assert runtime.resolve({}, tmp_path / "missing") == {
        "DATABASE_URL": runtime.DEFAULT_DATABASE_URL,
        "REDIS_URL": runtime.DEFAULT_REDIS_URL,
    }


def test_an_embedded_server_that_answers_is_used(tmp_path: Path) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        runtime.write(
            {"REDIS_URL": f"redis://127.0.0.1:{port}/0", runtime.EMBEDDED_KEY: "redis"}, tmp_path
        )
        assert runtime.resolve({}, tmp_path)["REDIS_URL"] == f"redis://127.0.0.1:{port}/0"


@pytest.mark.parametrize(
    ("name", "values", "named"),
    [
        ("postgres", {"DATABASE_URL": "postgresql://postgres:@/cloudfreedom?host={dir}"}, "Post"),
        ("redis", {"REDIS_URL": "redis://127.0.0.1:{port}/0"}, "Redis"),
    ],
)
def test_an_embedded_server_that_is_gone_is_named(
    tmp_path: Path, name: str, values: dict[str, str], named: str
) -> None:
    filled = {k: v.format(dir=tmp_path, port=free_port()) for k, v in values.items()}
    runtime.write({**filled, runtime.EMBEDDED_KEY: name}, tmp_path)
    with pytest.raises(runtime.EmbeddedServerDown, match=f"embedded {named}.*not running"):
        runtime.resolve({}, tmp_path)


def test_manage_py_says_the_embedded_database_is_not_running_at_once(tmp_path: Path) -> None:
    """Before: the command waited out the pool's 10 s timeout, then printed a traceback."""
    runtime.write(
        {
            "DATABASE_URL": f"postgresql://postgres:@/cloudfreedom?host={tmp_path}",
            "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0",
            runtime.EMBEDDED_KEY: "postgres,redis",
        },
        tmp_path,
    )
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(
        CLOUDFREEDOM_DATA_DIR=str(tmp_path),
        CLOUDFREEDOM_SECRETS_FILE=str(tmp_path / "secrets.json"),
        DJANGO_SETTINGS_MODULE="cloudfreedom.settings.local",
        PYTHONPATH=str(ROOT),
    )
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "manage.py", "create_api_key", "--tenant", "demo"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert time.monotonic() - started < 8
    assert "The embedded PostgreSQL started by `make run` is not running" in done.stderr
    assert "Traceback" not in done.stderr
