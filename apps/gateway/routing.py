"""Attempts over a route's targets: retries with backoff, then fallback.

Per target: on a retryable failure (429, 408/409, 5xx, timeout, connection error) retry
up to `route.retries` times, waiting `Retry-After` when the upstream sent one (if it
asks for longer than `GATEWAY_RETRY_MAX_WAIT` we stop waiting and move on) or an
exponential backoff otherwise. Then fall back to the next target. Upstream 401/403 (our
credentials) and quota-exhausted 429s also fall back, without retrying the same target.
Any other 4xx is the request's own fault and goes straight back to the client.
Every attempt is recorded: target, status, error kind, milliseconds.

All attempts of one request share a deadline (`GATEWAY_REQUEST_DEADLINE`): no retry or
fallback starts after it, and each attempt's read timeout is cut to the time left, so two
targets with generous timeouts and retries cannot hold a client for many minutes.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.conf import settings

from apps.gateway.providers.base import UpstreamError, UpstreamTarget

log = logging.getLogger("cloudfreedom.gateway.routing")

T = TypeVar("T")

DEFAULT_BACKOFF = 0.25  # seconds; doubled per retry
DEFAULT_MAX_WAIT = 5.0  # the most we ever sleep between two attempts
DEFAULT_DEADLINE = 600.0  # seconds for all attempts of one request together


@dataclass(slots=True)
class Attempts:
    log: list[dict[str, Any]] = field(default_factory=list)
    target: UpstreamTarget | None = None  # the target that answered (or failed last)

    def add(
        self, target: UpstreamTarget, started: float, status: int | None, error: str | None
    ) -> None:
        self.log.append(
            {
                "provider": target.provider_name,
                "model": target.upstream_model,
                "status": status,
                "error": error,
                "ms": int((time.perf_counter() - started) * 1000),
            }
        )

    def __len__(self) -> int:
        return len(self.log)


class AllTargetsFailed(Exception):
    def __init__(self, last: UpstreamError, *, final: bool) -> None:
        super().__init__(last.message)
        self.last = last
        # False: a non-retryable client error from the first target that answered it.
        self.final = final


def _falls_back(exc: UpstreamError) -> bool:
    return exc.retryable or exc.status in (401, 403) or exc.kind == "rate_limited"


def _wait(exc: UpstreamError, retry: int, max_wait: float) -> float | None:
    """Seconds to sleep before retrying the same target, or None to move on."""
    base = float(getattr(settings, "GATEWAY_RETRY_BACKOFF", DEFAULT_BACKOFF))
    if exc.retry_after is not None:
        return exc.retry_after if exc.retry_after <= max_wait else None
    return min(max_wait, base * (2**retry))


async def attempt(
    targets: tuple[UpstreamTarget, ...],
    retries: int,
    call: Callable[[UpstreamTarget], Awaitable[T]],
    attempts: Attempts,
) -> T:
    """Run `call` on targets in order until one succeeds; raise AllTargetsFailed."""
    max_wait = float(getattr(settings, "GATEWAY_RETRY_MAX_WAIT", DEFAULT_MAX_WAIT))
    deadline = time.monotonic() + float(
        getattr(settings, "GATEWAY_REQUEST_DEADLINE", DEFAULT_DEADLINE)
    )
    last: UpstreamError | None = None
    for target in targets:
        attempts.target = target
        for retry in range(retries + 1):
            left = deadline - time.monotonic()
            if left <= 0 and last is not None:
                raise AllTargetsFailed(last, final=True)
            if left < target.timeout:
                target = dataclasses.replace(target, timeout=max(left, 0.001))
            started = time.perf_counter()
            try:
                result = await call(target)
            except UpstreamError as exc:
                attempts.add(target, started, exc.status, exc.kind)
                last = exc
                log.info(
                    "upstream_attempt_failed provider=%s model=%s status=%s kind=%s",
                    target.provider_name,
                    target.upstream_model,
                    exc.status,
                    exc.kind,
                )
                if not _falls_back(exc):
                    raise AllTargetsFailed(exc, final=False)
                if not exc.retryable or retry == retries:
                    break
                delay = _wait(exc, retry, max_wait)
                if delay is None:
                    break
                if time.monotonic() + delay >= deadline:
                    raise AllTargetsFailed(exc, final=True)
                if delay > 0:
                    await asyncio.sleep(delay)
                continue
            attempts.add(target, started, 200, None)
            return result
    if last is None:
        last = UpstreamError("no upstream target is configured for this model", kind="server")
    raise AllTargetsFailed(last, final=True)
