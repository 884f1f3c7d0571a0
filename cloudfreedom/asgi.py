"""ASGI entry point.

/v1 requests go to a Django handler with no page middleware: the gateway authenticates by
API key, not by session or hostname, and every synchronous middleware would cost two
thread hops per request under ASGI. Everything else gets the full page stack.
"""

from __future__ import annotations

import os
from typing import Any

import django
from django.core.handlers.asgi import ASGIHandler

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cloudfreedom.settings.local")
django.setup(set_prefix=False)

GATEWAY_PREFIX = "/v1/"
GATEWAY_URLCONF = "apps.gateway.urls"


class GatewayHandler(ASGIHandler):
    """Django's ASGI handler with an empty middleware chain and the gateway's URLconf."""

    def load_middleware(self, is_async: bool = False) -> None:
        from django.conf import settings

        saved = settings.MIDDLEWARE
        settings.MIDDLEWARE = []
        try:
            super().load_middleware(is_async=is_async)
        finally:
            settings.MIDDLEWARE = saved

    async def get_response_async(self, request: Any) -> Any:
        request.urlconf = GATEWAY_URLCONF
        return await super().get_response_async(request)


class Router:
    def __init__(self, gateway: ASGIHandler, pages: ASGIHandler) -> None:
        self.gateway = gateway
        self.pages = pages

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"].startswith(GATEWAY_PREFIX):
            await self.gateway(scope, receive, send)
        else:
            await self.pages(scope, receive, send)


application = Router(gateway=GatewayHandler(), pages=ASGIHandler())
