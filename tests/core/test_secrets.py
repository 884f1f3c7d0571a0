"""Generated secrets: processes that start together on a fresh machine all get the same
value (web, worker and beat must agree on the API key HMAC secret), and the file stays
private."""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Each process says it is about to read, then reads (generating the secret if missing).
READ = """
import os, sys
from cloudfreedom.secrets import get_secret
open(sys.argv[1] + "." + str(os.getpid()), "w").close()
print(get_secret("SOME_SECRET"))
"""


def test_processes_starting_together_share_one_generated_secret(tmp_path: Path) -> None:
    secrets_file = tmp_path / "secrets.json"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "CLOUDFREEDOM_SECRETS_FILE": str(secrets_file)}
    env.pop("SOME_SECRET", None)
    ready = tmp_path / "ready"
    # Hold the lock the way a first process generating the secret does: the others must
    # wait for it and then read its value, not write their own.
    lock = os.open(tmp_path / "secrets.lock", os.O_WRONLY | os.O_CREAT, 0o600)
    fcntl.flock(lock, fcntl.LOCK_EX)
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", READ, str(ready)], env=env, stdout=subprocess.PIPE, text=True
        )
        for _ in range(8)
    ]
    try:
        while len(list(tmp_path.glob("ready.*"))) < len(procs):
            assert all(proc.poll() is None for proc in procs)
            time.sleep(0.01)
        time.sleep(0.3)  # time enough for any of them to write, had it not waited
        assert not secrets_file.exists()
        assert all(proc.poll() is None for proc in procs)
    finally:
        os.close(lock)
    values = {proc.communicate(timeout=60)[0].strip() for proc in procs}

    assert all(proc.returncode == 0 for proc in procs)
    assert len(values) == 1
    assert json.loads(secrets_file.read_text())["SOME_SECRET"] in values
    assert secrets_file.stat().st_mode & 0o777 == 0o600
    assert not list(tmp_path.glob("*.tmp"))
