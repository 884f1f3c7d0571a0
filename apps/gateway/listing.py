"""`GET /v1/models` and `GET /v1/models/{id}`: only what this key and plan may use."""

from __future__ import annotations

from typing import Any

import orjson
from django.http import HttpResponse

from apps.gateway import accounting
from apps.gateway.catalog_cache import CATALOG, RouteInfo
from apps.gateway.service import Call, model_not_found

OWNER = "cloudfreedom"


def _model(route: RouteInfo) -> dict[str, Any]:
    return {"id": route.public_name, "object": "model", "created": route.created, "owned_by": OWNER}


async def list_models(call: Call) -> HttpResponse:
    await accounting.check_key_fresh(call.ctx)
    snapshot = await CATALOG.get()
    data = [
        _model(route)
        for name, route in sorted(snapshot.routes.items())
        if call.ctx.may_use(name) and route.targets
    ]
    return HttpResponse(
        orjson.dumps({"object": "list", "data": data}), content_type="application/json"
    )


async def retrieve_model(call: Call, model: str) -> HttpResponse:
    await accounting.check_key_fresh(call.ctx)
    route, _ = await CATALOG.route(model)
    # A model this key may not use is reported as missing, as OpenAI does.
    if route is None or not call.ctx.may_use(model) or not route.targets:
        raise model_not_found(model)
    return HttpResponse(orjson.dumps(_model(route)), content_type="application/json")
