"""ASGI entry point.

/v1 requests go to a Django handler with no page middleware: the gateway authenticates by
API key, not by session or hostname, and every synchronous middleware would cost two
thread hops per request under ASGI. Everything else gets the full page stack.

The process's life is the ASGI lifespan (serve with `--lifespan on`): startup opens the
gateway's pools, shutdown lets in-flight /v1 requests end and drains their usage records
and settlements before the event loop closes (apps/gateway/lifespan.py).
"""

from __future__ import annotations

import asyncio
import io
import logging
import os
from typing import Any

import django
from django.core.exceptions import RequestAborted
from django.core.handlers.asgi import ASGIHandler

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cloudfreedom.settings.local")
django.setup(set_prefix=False)

from django.conf import settings  # noqa: E402  (after django.setup)

from apps.gateway import lifespan  # noqa: E402
from apps.gateway.background import REQUESTS  # noqa: E402
from apps.gateway.context import new_request_id  # noqa: E402
from apps.gateway.errors import GatewayError, render  # noqa: E402

log = logging.getLogger("cloudfreedom.asgi")

GATEWAY_PREFIX = "/v1/"
GATEWAY_URLCONF = "apps.gateway.urls"
ANTHROPIC_PREFIX = "/v1/messages"


class BodyTooLarge(Exception):
    pass


async def read_limited_body(scope: dict[str, Any], receive: Any, limit: int) -> io.BytesIO:
    """The request body, counted as it arrives: BodyTooLarge as soon as the declared
    length or the bytes received pass `limit`, so an oversized body is never buffered.

    A chunked body has no length to check up front, and a declared length may lie (the
    counted bytes decide); RequestAborted when the client leaves."""
    for name, value in scope["headers"]:
        # A declared length over the limit is refused before a byte of the body is read
        # (and before uvicorn answers `Expect: 100-continue`). Non-digits: the server's
        # HTTP parser has already refused those.
        if name == b"content-length" and value.isdigit() and int(value) > limit:
            raise BodyTooLarge
    message = await receive()
    if message["type"] == "http.disconnect":
        raise RequestAborted
    body = message.get("body", b"")
    if not message.get("more_body", False):  # the common case: one message
        if len(body) > limit:
            raise BodyTooLarge
        return io.BytesIO(body)
    parts = [body]
    size = len(body)
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise RequestAborted
        body = message.get("body", b"")
        size += len(body)
        if size > limit:
            raise BodyTooLarge
        parts.append(body)
        if not message.get("more_body", False):
            return io.BytesIO(b"".join(parts))


class GatewayHandler(ASGIHandler):
    """Django's ASGI handler with an empty middleware chain and the gateway's URLconf."""

    def load_middleware(self, is_async: bool = False) -> None:
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
        """Serve one /v1 request, registered as in flight until it (and its usage
        record) is done, so the lifespan's shutdown can wait for it."""
        task = asyncio.current_task()
        assert task is not None
        REQUESTS.tasks.add(task)
        try:
            await self._handle(scope, receive, send)
        finally:
            REQUESTS.tasks.discard(task)

    async def _too_large(self, scope: dict[str, Any], send: Any) -> None:
        limit = int(settings.GATEWAY_MAX_BODY_BYTES)
        error = GatewayError(
            413,
            f"The request body is larger than the {limit} bytes this gateway accepts.",
            code="request_too_large",
        )
        anthropic = scope["path"].startswith(ANTHROPIC_PREFIX)
        response = render(error, anthropic=anthropic, headers={"x-request-id": new_request_id()})
        # The rest of the body is not read: close the connection rather than parse it.
        response["Connection"] = "close"
        await self.send_response(response, send)

    async def _stopping(self, scope: dict[str, Any], send: Any) -> None:
        error = GatewayError(
            503, "The server is restarting; please retry the request.", code="server_stopping"
        )
        anthropic = scope["path"].startswith(ANTHROPIC_PREFIX)
        response = render(error, anthropic=anthropic, headers={"x-request-id": new_request_id()})
        response["Connection"] = "close"
        await self.send_response(response, send)

    async def _handle(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        """Django's ASGIHandler.handle with the body limit first, without the
        request_started signal, with the response closed on the loop, and with the
        request's work finished (not orphaned) when the server cancels it.

        Django sends request_started with `asend` and closes the response through
        `sync_to_async`: its synchronous receivers (reset_queries, close_old_connections)
        cost a thread hop each, per request. The gateway never uses the ORM on the event
        loop (raw SQL on an async pool; ORM work happens in `sync_to_async` and closes its
        own connection), so there is nothing for them to do here. Client disconnects are
        still watched, so a streaming view is cancelled when its client goes away.
        """
        try:
            body_file = await read_limited_body(
                scope, receive, int(settings.GATEWAY_MAX_BODY_BYTES)
            )
        except RequestAborted:
            return
        except BodyTooLarge:
            await self._too_large(scope, send)
            return
        request, error_response = self.create_request(scope, body_file)
        if request is None:
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
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            # The server stops this request (its graceful shutdown timed out). `asyncio.wait`
            # would leave the view running: pass the cancellation on and wait, so a stream
            # ends now, with an error event, and records its usage before the loop closes.
            # Not re-raised: the request has ended (cleanly when the stream could say so),
            # and uvicorn would log a traceback per request.
            for task in tasks:
                REQUESTS.stop(task)
            await asyncio.gather(*tasks, return_exceptions=True)
            for response in sent:
                response.close()
            if not sent:  # nothing was answered yet: say why, in the gateway's shape
                await self._stopping(scope, send)
            return
        for task in tasks:
            if task.done():
                try:
                    task.result()
                except RequestAborted:
                    pass
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


class Router:
    def __init__(self, gateway: ASGIHandler, pages: ASGIHandler) -> None:
        self.gateway = gateway
        self.pages = pages

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        kind = scope["type"]
        if kind == "http" and scope["path"].startswith(GATEWAY_PREFIX):
            await self.gateway(scope, receive, send)
        elif kind == "lifespan":
            await self.lifespan(receive, send)
        else:
            await self.pages(scope, receive, send)

    async def lifespan(self, receive: Any, send: Any) -> None:
        """The ASGI lifespan protocol: one startup and one shutdown hook."""
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await lifespan.startup()
                except Exception as exc:
                    log.exception("startup_failed")
                    await send({"type": "lifespan.startup.failed", "message": repr(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                try:
                    await lifespan.shutdown()
                except Exception as exc:
                    log.exception("shutdown_failed")
                    await send({"type": "lifespan.shutdown.failed", "message": repr(exc)})
                    return
                await send({"type": "lifespan.shutdown.complete"})
                return


application = Router(gateway=GatewayHandler(), pages=ASGIHandler())
