"""A burst from one key through one process is served: every pool on the way (Redis,
PostgreSQL, upstream) waits briefly for a free connection instead of failing.

Before, redis-py's asyncio pool stopped at 100 connections and raised, so 200 concurrent
requests from one key got 503 `rate_limiter_unavailable`; a cold key or catalog made every
waiting request query the database at once."""

from __future__ import annotations

import json
import subprocess
import sys

from django.conf import settings

from tests.support.live import LiveGateway, World, auth, user_message

CONCURRENT = 1000
# Wall-clock bound for the whole burst on a loaded 2-core machine.
BURST_DEADLINE = 120.0


def test_a_burst_of_1000_requests_from_one_key_is_all_200(
    gateway: LiveGateway, world: World
) -> None:
    # Generous limits, so every request goes through the limiter (and Redis) and passes.
    _, secret = world.new_key(name="burst", rpm_limit=1_000_000, tpm_limit=1_000_000_000)
    request = {
        "headers": auth(secret),
        "body": {"model": world.models["mock"], "messages": user_message(), "max_tokens": 16},
    }
    # More requests than any pool has connections: each must wait for one, not fail.
    assert CONCURRENT > settings.RATE_LIMITER_REDIS_POOL_SIZE
    assert CONCURRENT > settings.GATEWAY_DB_POOL_MAX

    # The client is another process: its CPU must not compete with the server's loop.
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.support.burst",
            gateway.url + "/v1/chat/completions",
            str(CONCURRENT),
            str(BURST_DEADLINE),
        ],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        timeout=BURST_DEADLINE + 30,
        check=True,
    )
    result = json.loads(done.stdout)

    assert result["outcomes"] == {"200": CONCURRENT}, result
    assert result["elapsed"] < BURST_DEADLINE
