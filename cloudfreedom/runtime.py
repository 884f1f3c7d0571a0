"""Where `make run` put PostgreSQL and Redis, for every other command.

`make run` (cloudfreedom.devserver) writes what it chose (DATABASE_URL, a local server or
an embedded one; the same for Redis) to `.data/runtime.env`. The settings read that file
for DATABASE_URL and REDIS_URL when the environment does not set them, so `manage.py`,
`make test`, the `make` targets and Celery in a second terminal find the very servers the
running site uses. A CI machine has no such file and gets the defaults (127.0.0.1).

An embedded server lives only as long as `make run`: when the file points at one that no
longer answers, settings stop with one sentence naming the cause instead of letting the
first query wait out the pool's timeout.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import parse_qs, urlparse

BASE_DIR = Path(__file__).resolve().parent.parent
# Tests point this at a temporary folder so that a `make run` they start never touches
# the developer's own `.data`.
DATA_DIR = Path(os.environ.get("CLOUDFREEDOM_DATA_DIR", BASE_DIR / ".data"))
RUNTIME_FILE_NAME = "runtime.env"

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/cloudfreedom"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"

# Names of the servers `make run` started itself, listed in the file under this key.
EMBEDDED_KEY = "CLOUDFREEDOM_EMBEDDED"
EMBEDDED_POSTGRES = "postgres"
EMBEDDED_REDIS = "redis"
# The variable each embedded server provides, and what a user sets instead.
_PROVIDES = {EMBEDDED_POSTGRES: "DATABASE_URL", EMBEDDED_REDIS: "REDIS_URL"}
_LABELS = {EMBEDDED_POSTGRES: "PostgreSQL", EMBEDDED_REDIS: "Redis"}

_HEADER = (
    "# Written by `make run` (cloudfreedom/devserver.py) on every start: the servers it chose.\n"
    "# Read by the settings when DATABASE_URL / REDIS_URL are not set in the environment.\n"
)


class EmbeddedServerDown(SystemExit):
    """The runtime file names an embedded server that does not answer: `make run` stopped."""


def runtime_file(data_dir: Path | None = None) -> Path:
    return (data_dir or DATA_DIR) / RUNTIME_FILE_NAME


def write(values: Mapping[str, str], data_dir: Path | None = None) -> Path:
    """Replace the runtime file with `values` (atomically: a reader never sees half)."""
    path = runtime_file(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    for key, value in values.items():
        if "\n" in key or "\n" in value or "=" in key:
            raise ValueError(f"cannot store {key!r} in {path.name}")
    tmp = path.with_suffix(".tmp")
    tmp.write_text(_HEADER + "".join(f"{key}={value}\n" for key, value in values.items()))
    os.replace(tmp, path)
    return path


def read(data_dir: Path | None = None) -> dict[str, str]:
    """KEY=VALUE lines of the runtime file; {} when `make run` never wrote one here."""
    try:
        text = runtime_file(data_dir).read_text()
    except FileNotFoundError:
        return {}
    values = {}
    for line in text.splitlines():
        if line.strip() and not line.startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            values[key.strip()] = value
    return values


def postgres_answers(url: str, timeout: float = 1.0) -> bool:
    """Something accepts connections where `url` points (a socket, not a login: cheap)."""
    parts = urlparse(url)
    port = parts.port or 5432
    host = parse_qs(parts.query).get("host", [parts.hostname or ""])[0]
    if host.startswith("/"):
        return _connects(socket.AF_UNIX, os.path.join(host, f".s.PGSQL.{port}"), timeout)
    return _connects(socket.AF_INET, (host or "127.0.0.1", port), timeout)


def redis_answers(url: str, timeout: float = 1.0) -> bool:
    parts = urlparse(url)
    return _connects(socket.AF_INET, (parts.hostname or "127.0.0.1", parts.port or 6379), timeout)


def _connects(family: int, address: str | tuple[str, int], timeout: float) -> bool:
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        try:
            sock.connect(address)
        except OSError:
            return False
    return True


def resolve(environ: Mapping[str, str], data_dir: Path | None = None) -> dict[str, str]:
    """DATABASE_URL and REDIS_URL for the settings.

    The environment wins (an empty REDIS_URL is a choice too: run without Redis); else the
    runtime file of `make run`; else the local defaults. Raises EmbeddedServerDown when a
    value taken from the file belongs to an embedded server that does not answer.
    """
    stored = read(data_dir)
    embedded = {name for name in stored.get(EMBEDDED_KEY, "").split(",") if name}
    defaults = {"DATABASE_URL": DEFAULT_DATABASE_URL, "REDIS_URL": DEFAULT_REDIS_URL}
    chosen: dict[str, str] = {}
    from_file: set[str] = set()
    for key, default in defaults.items():
        if key in environ:
            chosen[key] = environ[key]
        elif key in stored:
            chosen[key] = stored[key]
            from_file.add(key)
        else:
            chosen[key] = default
    probes = {EMBEDDED_POSTGRES: postgres_answers, EMBEDDED_REDIS: redis_answers}
    for name in sorted(embedded):
        key = _PROVIDES.get(name)
        if key in from_file and chosen[key] and not probes[name](chosen[key]):
            raise EmbeddedServerDown(
                f"The embedded {_LABELS[name]} started by `make run` is not running "
                f"(it lives only while `make run` does; see {runtime_file(data_dir)}). "
                f"Start `make run` in another terminal, or set {key}."
            )
    return chosen
