"""Secrets come from the environment, or are generated once and kept in `.data/secrets.json`.

The file is created with mode 0600 on first run so that `make run` works on a fresh
machine without anyone inventing a SECRET_KEY, and is never committed (`.data/` is ignored).
"""

from __future__ import annotations

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
    """Return `name` from the environment, else from the generated secrets file."""
    value = os.environ.get(name)
    if value:
        return value
    stored = _load(SECRETS_FILE)
    if name not in stored:
        stored[name] = secrets.token_urlsafe(nbytes)
        SECRETS_FILE.parent.mkdir(parents=True, exist_ok=True)
        tmp = SECRETS_FILE.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(stored, fh)
        os.replace(tmp, SECRETS_FILE)
    return stored[name]
