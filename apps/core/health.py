"""Liveness and readiness probes. Readiness opens fresh connections with short timeouts so
that a dead dependency answers in seconds and names itself, never hangs the probe.

The dependencies are the configured ones, wherever they run (a server `make run` embedded
counts like any other). Redis is one unless the process was set up to run without it:
REDIS_URL empty *and* the local rate limiter, the fallback `make run` takes only when no
Redis can be had at all. An empty REDIS_URL with the Redis limiter is a failure, because
that limiter fails closed."""

from __future__ import annotations

import psycopg
import redis
from django.conf import settings

TIMEOUT_SECONDS = 2


def check_database() -> str | None:
    db = settings.DATABASES["default"]
    try:
        with psycopg.connect(
            dbname=db["NAME"],
            user=db.get("USER") or None,
            password=db.get("PASSWORD") or None,
            host=db.get("HOST") or None,
            port=db.get("PORT") or None,
            connect_timeout=TIMEOUT_SECONDS,
        ) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        return type(exc).__name__
    return None


def readiness_checks() -> dict[str, str | None]:
    """Each dependency this process uses → None when it answers, else the error's name."""
    checks = {"database": check_database()}
    if settings.REDIS_URL or settings.RATE_LIMITER_BACKEND != "local":
        checks["redis"] = check_redis()
    return checks


def check_redis() -> str | None:
    if not settings.REDIS_URL:
        return "NotConfigured"  # the Redis rate limiter without a Redis: fails closed
    try:
        client = redis.Redis.from_url(
            settings.REDIS_URL,
            socket_timeout=TIMEOUT_SECONDS,
            socket_connect_timeout=TIMEOUT_SECONDS,
        )
        client.ping()
        client.close()
    except redis.RedisError as exc:
        return type(exc).__name__
    return None
