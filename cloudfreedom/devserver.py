"""`make run`: find PostgreSQL and Redis, migrate, seed, then run web + worker + beat.

PostgreSQL: DATABASE_URL if set, else 127.0.0.1:5432, else an embedded server (the
`pgserver` package) kept under ./.data/postgres. Redis: REDIS_URL (default
127.0.0.1:6379); without it Celery uses a filesystem broker under ./.data/celery and the
cache is per process. One Ctrl-C stops all three processes.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import psycopg
import redis

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / ".data"
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/cloudfreedom"
DEFAULT_REDIS = "redis://127.0.0.1:6379/0"


def say(message: str) -> None:
    print(f"[cloudfreedom] {message}", flush=True)


def database_reachable(url: str) -> bool:
    parts = urlparse(url)
    admin = urlunparse(parts._replace(path="/postgres"))
    try:
        with psycopg.connect(admin, connect_timeout=3, autocommit=True) as conn:
            name = parts.path.lstrip("/") or "cloudfreedom"
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{name}"')
                say(f"created database {name}")
        return True
    except psycopg.Error:
        return False


def find_database() -> tuple[str, object | None]:
    url = os.environ.get("DATABASE_URL")
    if url:
        if not database_reachable(url):
            sys.exit(
                "DATABASE_URL is set but PostgreSQL does not answer at "
                f"{urlparse(url).hostname}:{urlparse(url).port or 5432}"
            )
        return url, None
    if database_reachable(DEFAULT_DB):
        say("using PostgreSQL at 127.0.0.1:5432")
        return DEFAULT_DB, None
    import pgserver

    DATA.mkdir(exist_ok=True)
    server = pgserver.get_server(DATA / "postgres", cleanup_mode="stop")
    url = server.get_uri("cloudfreedom")
    database_reachable(url)
    say(
        f"no PostgreSQL at 127.0.0.1:5432: started an embedded one (pgserver) "
        f"in {DATA / 'postgres'}"
    )
    return url, server


def find_redis() -> str | None:
    url = os.environ.get("REDIS_URL", DEFAULT_REDIS)
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=2)
        client.ping()
        client.close()
        say(f"using Redis at {urlparse(url).hostname}:{urlparse(url).port or 6379}")
        return url
    except redis.RedisError:
        say(
            "Redis is NOT reachable: running without it. Celery uses a filesystem broker in "
            ".data/celery, caching is per process, and rate limits fail closed (keys and plans "
            "with RPM/TPM limits get 503 until Redis is back). Start Redis for the full product."
        )
        return None


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
            "off",
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


def main() -> None:
    env = dict(os.environ)
    env.setdefault("DJANGO_SETTINGS_MODULE", "cloudfreedom.settings.local")
    env["PYTHONPATH"] = str(ROOT)
    db_url, embedded = find_database()
    env["DATABASE_URL"] = db_url
    redis_url = find_redis()
    if redis_url:
        env["REDIS_URL"] = redis_url
    else:
        env["REDIS_URL"] = ""
        for folder in ("in", "processed"):
            (DATA / "celery" / folder).mkdir(parents=True, exist_ok=True)
    bin_dir = Path(sys.executable).parent
    python = sys.executable

    def manage(*args: str) -> None:
        subprocess.run([python, "manage.py", *args], cwd=ROOT, env=env, check=True)

    say("migrating (the first run builds the tenant template schema: about a minute)")
    manage("migrate_schemas", "--shared", "--noinput", "-v", "0")
    manage("bootstrap")
    manage("migrate_schemas", "--tenant", "--noinput", "-v", "0")
    manage("seed_demo")
    manage("collectstatic", "--noinput", "-v", "0")

    commands = process_commands(env, bin_dir, DATA)
    procs = {name: subprocess.Popen(cmd, cwd=ROOT, env=env) for name, cmd in commands.items()}
    say(
        f"serving on http://127.0.0.1:{env.get('PORT', '8000')}/ "
        "(Ctrl-C stops web, worker and beat)"
    )

    def stop(*_: object) -> None:
        for proc in procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 10
        for proc in procs.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
        if embedded is not None:
            embedded.cleanup()

    signal.signal(signal.SIGTERM, lambda *_: (stop(), sys.exit(0)))
    try:
        while True:
            for name, proc in procs.items():
                if proc.poll() is not None:
                    say(f"{name} exited with code {proc.returncode}; stopping the others")
                    stop()
                    sys.exit(proc.returncode or 1)
            time.sleep(0.5)
    except KeyboardInterrupt:
        say("stopping")
        stop()


if __name__ == "__main__":
    main()
