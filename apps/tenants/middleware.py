"""Hostname → tenant for pages. The /v1 gateway and health checks never need it."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django_tenants.middleware.main import TenantMainMiddleware

# The gateway resolves its tenant from the API key, and health checks are schema-free.
SKIP_PREFIXES = ("/v1/", "/healthz", "/readyz")


class TenantMiddleware(TenantMainMiddleware):
    def process_request(self, request: HttpRequest) -> HttpResponse | None:
        if request.path.startswith(SKIP_PREFIXES):
            return None
        return super().process_request(request)
