from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache

from apps.core import health


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """The process is alive and serving; says nothing about dependencies."""
    return JsonResponse({"status": "ok"})


@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    """200 when the configured dependencies answer; 503 naming what failed otherwise."""
    checks = health.readiness_checks()
    failed = {name: error for name, error in checks.items() if error}
    body = {
        "status": "unavailable" if failed else "ok",
        "checks": {name: ("ok" if not err else f"failed: {err}") for name, err in checks.items()},
    }
    if failed:
        body["failed"] = sorted(failed)
    return JsonResponse(body, status=503 if failed else 200)
