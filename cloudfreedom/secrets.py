"""Secrets come from the environment, or are generated once and kept in `.data/secrets.json`.

The file is created with mode 0600 on first run so that `make run` works on a fresh
machine without anyone inventing a SECRET_KEY, and is never committed (`.data/` is ignored).
"""

from __future__ import annotations

import fcntl
import json
import os
import secrets
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
SECRETS_FILE = Path(
    os.environ.get("CLOUDFREEDOM_SECRETS_FILE", BASE_DIR / ".data" / "secrets.json")
)


def _load(path: Path) -> dict[str, str]:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return {}


def get_secret(name: str, *, nbytes: int = 48) -> str:
    """Return `name` from the environment, else from the generated secrets file.

    Processes that start together on a fresh machine (`make run` prepares the database and
    collects static files side by side, then starts web, worker and beat) must all end up
    with the same value: the first to take the file's lock generates it, the others read it.
    """
    value = os.environ.get(name)
    if value:
        return value
    stored = _load(SECRETS_FILE)
    if name in stored:
        return stored[name]
    SECRETS_FILE.parent.mkdir(parents=True, exist_ok=True)
    lock = os.open(SECRETS_FILE.with_suffix(".lock"), os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        stored = _load(SECRETS_FILE)  # another process may have written it meanwhile
        if name not in stored:
            stored[name] = secrets.token_urlsafe(nbytes)
            tmp = SECRETS_FILE.with_suffix(f".{os.getpid()}.tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as fh:
                json.dump(stored, fh)
            os.replace(tmp, SECRETS_FILE)
    finally:
        os.close(lock)  # closing releases the lock
    return stored[name]
