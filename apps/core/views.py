from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from apps.catalog.models import Product
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


def home(request: HttpRequest) -> HttpResponse:
    """The public landing page with pricing built from the active products; on a tenant's
    own host, that workspace's start page."""
    tenant = getattr(request, "tenant", None)
    if tenant is not None and tenant.kind == "customer":
        return render(request, "core/tenant_home.html", {"tenant": tenant})
    products = Product.objects.filter(is_active=True).prefetch_related("allowed_models")
    return render(request, "core/landing.html", {"products": products})
