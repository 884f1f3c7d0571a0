"""Liveness and readiness probes. Readiness opens fresh connections with short timeouts so
that a dead dependency answers in seconds and names itself, never hangs the probe."""

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


def check_redis() -> str | None:
    if not settings.REDIS_URL:
        return "NotConfigured"  # running without Redis (see `make run`)
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
