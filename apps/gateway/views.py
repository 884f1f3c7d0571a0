"""The /v1 views: thin async functions. Served without page middleware (see asgi.py)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from apps.gateway import chat, embeddings, listing
from apps.gateway.context import (
    ENDPOINT_CHAT,
    ENDPOINT_EMBEDDINGS,
    ENDPOINT_MESSAGES,
    ENDPOINT_MODELS,
)
from apps.gateway.errors import GatewayError, render
from apps.gateway.service import Call, handle

ALLOW = {"POST"}


def _method_not_allowed(
    request: HttpRequest, allowed: str, anthropic: bool = False
) -> HttpResponse:
    from apps.gateway.context import new_request_id

    error = GatewayError(
        405,
        f"Method {request.method} is not allowed here; use {allowed}.",
        code="method_not_allowed",
    )
    response = render(error, anthropic=anthropic, headers={"x-request-id": new_request_id()})
    response["Allow"] = allowed
    return response


@csrf_exempt
async def chat_completions(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _method_not_allowed(request, "POST")
    return await handle(request, ENDPOINT_CHAT, chat.chat_completions)


@csrf_exempt
async def messages(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _method_not_allowed(request, "POST", anthropic=True)
    return await handle(request, ENDPOINT_MESSAGES, chat.messages, anthropic=True)


@csrf_exempt
async def embeddings_view(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _method_not_allowed(request, "POST")
    return await handle(request, ENDPOINT_EMBEDDINGS, embeddings.embeddings)


async def models(request: HttpRequest) -> HttpResponse:
    if request.method != "GET":
        return _method_not_allowed(request, "GET")
    return await handle(request, ENDPOINT_MODELS, listing.list_models)


async def model_detail(request: HttpRequest, model: str) -> HttpResponse:
    if request.method != "GET":
        return _method_not_allowed(request, "GET")

    async def run(call: Call) -> HttpResponse:
        return await listing.retrieve_model(call, model)

    return await handle(request, ENDPOINT_MODELS, run)


async def not_found(request: HttpRequest, path: str = "") -> HttpResponse:
    from apps.gateway.context import new_request_id

    error = GatewayError(404, f"Unknown API route '{request.path}'.", code="unknown_url")
    return render(error, anthropic=False, headers={"x-request-id": new_request_id()})
