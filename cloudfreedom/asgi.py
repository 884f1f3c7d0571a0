"""ASGI entry point.

/v1 requests go to a Django handler with no page middleware: the gateway authenticates by
API key, not by session or hostname, and every synchronous middleware would cost two
thread hops per request under ASGI. Everything else gets the full page stack.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

import django
from django.core.exceptions import RequestAborted
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

    async def handle(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        """Django's ASGIHandler.handle without the request_started signal and with the
        response closed on the loop.

        Django sends request_started with `asend` and closes the response through
        `sync_to_async`: its synchronous receivers (reset_queries, close_old_connections)
        cost a thread hop each, per request. The gateway never uses the ORM on the event
        loop (raw SQL on an async pool; ORM work happens in `sync_to_async` and closes its
        own connection), so there is nothing for them to do here. Client disconnects are
        still watched, so a streaming view is cancelled when its client goes away.
        """
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return
        request, error_response = self.create_request(scope, body_file)
        if request is None:
            body_file.close()
            await self.send_response(error_response, send)
            error_response.close()
            return

        sent: list[Any] = []

        async def process_request() -> Any:
            response = await self.run_get_response(request)
            sent.append(response)
            try:
                await self.send_response(response, send)
            except asyncio.CancelledError:
                pass  # the client left during send_response
            return response

        tasks = [
            asyncio.create_task(self.listen_for_disconnect(receive)),
            asyncio.create_task(process_request()),
        ]
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in tasks:
            if task.done():
                try:
                    task.result()
                except RequestAborted:
                    pass
                except AssertionError:
                    body_file.close()
                    raise
            else:
                task.cancel()
                try:
                    await task
                except asyncio.CancelledError:
                    pass
        try:
            response = tasks[1].result()
        except asyncio.CancelledError:
            # The client left mid-response: close it anyway, so a streamed body's resources
            # (the upstream stream, its usage record) are released now, not at GC time.
            for response in sent:
                response.close()
        else:
            # Synchronous receivers of request_finished run here, on the loop thread,
            # where no ORM connection exists: cheap, and no thread hop.
            response.close()
        body_file.close()


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
