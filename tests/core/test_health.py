from __future__ import annotations

from typing import Any

import httpx
from django.conf import settings

from tests.support.processes import free_port, uvicorn_server


def test_healthz_answers_without_touching_dependencies(client: Any) -> None:
    response = client.get("/healthz", HTTP_HOST="localhost")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_is_200_when_database_and_redis_answer(db: Any, client: Any) -> None:
    response = client.get("/readyz", HTTP_HOST="localhost")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "redis": "ok"}


def _db_url() -> str:
    db = settings.DATABASES["default"]
    user, host, port = db["USER"] or "postgres", db["HOST"] or "127.0.0.1", db["PORT"] or 5432
    return f"postgres://{user}@{host}:{port}/{db['NAME']}"


def test_readyz_turns_503_naming_the_database_when_it_is_unreachable() -> None:
    dead = f"postgres://postgres@127.0.0.1:{free_port()}/nowhere"
    with uvicorn_server({"DATABASE_URL": dead}) as base:
        assert httpx.get(base + "/healthz").status_code == 200  # alive, just not ready
        response = httpx.get(base + "/readyz", timeout=10)
    assert response.status_code == 503
    body = response.json()
    assert body["failed"] == ["database"]
    assert body["checks"]["redis"] == "ok"
    assert "nowhere" not in response.text  # no connection details leak


def test_readyz_turns_503_naming_redis_when_it_is_unreachable() -> None:
    with uvicorn_server(
        {"DATABASE_URL": _db_url(), "TEST_REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"}
    ) as base:
        response = httpx.get(base + "/readyz", timeout=10)
    assert response.status_code == 503
    assert response.json()["failed"] == ["redis"]


def test_readyz_fails_without_redis_when_the_limiter_needs_it(
    db: Any, client: Any, settings: Any
) -> None:
    # The Redis limiter fails closed without Redis: not ready.
    settings.REDIS_URL = ""
    settings.RATE_LIMITER_BACKEND = "redis"
    response = client.get("/readyz", HTTP_HOST="localhost")
    assert response.status_code == 503
    assert response.json()["failed"] == ["redis"]
    assert response.json()["checks"]["redis"] == "failed: NotConfigured"


def test_readyz_is_200_when_running_without_redis_on_the_local_limiter(
    db: Any, client: Any, settings: Any
) -> None:
    """`make run`'s last resort (no Redis at all) serves: Redis is not a dependency then.
    Before, /readyz answered 503 "NotConfigured" for ever."""
    settings.REDIS_URL = ""
    settings.RATE_LIMITER_BACKEND = "local"
    response = client.get("/readyz", HTTP_HOST="localhost")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok"}
