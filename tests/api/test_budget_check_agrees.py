"""The budget dry run answers what the gateway's reservation decides, for the same inputs,
and holds nothing.

The gateway side is the real thing: its key lookup, its catalog snapshot, its reservation
request and its `reserve` on the async pool. That pool has its own connections, so this
test works on COMMITTED rows (the billing tests' `made` fixture removes them after).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest

from apps.accounts.services import ensure_service_user
from apps.billing import services as billing
from apps.billing.models import Budget, Reservation
from apps.catalog.models import ModelPrice, ModelRoute
from apps.core.db import POOLS
from apps.gateway import accounting
from apps.gateway.auth import authenticate
from apps.gateway.catalog_cache import CATALOG
from apps.gateway.context import RequestContext, new_request_id
from apps.gateway.errors import GatewayError
from apps.keys.lookup import KEYS
from apps.keys.services import create_api_key, revoke_api_key
from apps.tenants.models import Tenant
from apps.tenants.services import set_status
from tests.api.conftest import client_for
from tests.billing.conftest import Made, made  # noqa: F401 - the fixture
from tests.support import factories


async def _gateway_reserve(
    secret: str, model: str, prompt_tokens: int, max_tokens: int | None, n: int
) -> dict[str, Any]:
    try:
        key = await authenticate({"authorization": f"Bearer {secret}"})
        plan = await CATALOG.plan(key.product_id)
        ctx = RequestContext(request_id=new_request_id(), endpoint="chat", key=key, plan=plan)
        route, _ = await CATALOG.route(model)
        assert route is not None
        req = accounting.reserve_request(
            ctx,
            model,
            route,
            route.current_price(),
            prompt_bound=prompt_tokens,
            requested_max_output=max_tokens,
            choices=n,
        )
        res = await accounting.reserve(ctx, req)
    except GatewayError as exc:
        remaining = exc.headers.get("x-cloudfreedom-budget-remaining")
        return {"reason": exc.code, "remaining": Decimal(remaining) if remaining else None}
    finally:
        await POOLS.close_all()
    assert res.remaining is not None
    return {
        "reason": "ok",
        "estimated_cost": res.amount,
        "max_output_tokens": res.max_output_tokens,
        "remaining": res.remaining + res.amount,  # the dry run reports it before the request
        "scope": res.tightest_scope,
    }


def gateway_reserve(
    secret: str, model: str, prompt_tokens: int, max_tokens: int | None, n: int
) -> dict[str, Any]:
    CATALOG.invalidate()
    KEYS.invalidate()
    return asyncio.run(_gateway_reserve(secret, model, prompt_tokens, max_tokens, n))


@pytest.fixture
def route(made: Made) -> Iterator[ModelRoute]:  # noqa: F811
    r = factories.route(factories.unique("dry-run"))
    yield r
    ModelPrice.objects.filter(route=r).delete()
    r.delete()


def held(tenant: Tenant) -> tuple[int, list[Decimal]]:
    reserved = list(Budget.objects.filter(tenant=tenant).values_list("reserved", flat=True))
    return Reservation.objects.filter(tenant=tenant, state="held").count(), reserved


def scenario_tenant(made: Made, route: ModelRoute) -> Tenant:  # noqa: F811
    tenant = made.tenant("0.50")
    product = tenant.product
    product.markup_percent = Decimal("10")
    product.save()
    product.allowed_models.add(route)
    return tenant


SCENARIOS: dict[str, Callable[[Any, Any], tuple[int, int | None, int]]] = {}


def scenario(fn: Callable[[Any, Any], tuple[int, int | None, int]]) -> Any:
    SCENARIOS[fn.__name__] = fn
    return fn


@scenario
def affordable(tenant: Tenant, new: Any) -> tuple[int, int | None, int]:
    return 1000, 100, 1


@scenario
def open_ended_shrunk_by_the_key_limit(tenant: Tenant, new: Any) -> tuple[int, int | None, int]:
    billing.set_key_limit(new.key, Decimal("0.001"))
    return 100, None, 1


@scenario
def explicit_limit_over_the_key_limit(tenant: Tenant, new: Any) -> tuple[int, int | None, int]:
    billing.set_key_limit(new.key, Decimal("0.001"))
    return 100, 1000, 1


@scenario
def over_the_members_limit(tenant: Tenant, new: Any) -> tuple[int, int | None, int]:
    billing.set_member_limit(new.key.member, Decimal("0.0001"))
    return 1000, None, 1


@scenario
def over_the_tenant_budget(tenant: Tenant, new: Any) -> tuple[int, int | None, int]:
    return 400_000, None, 1


@scenario
def revoked_key_in_a_suspended_tenant(tenant: Tenant, new: Any) -> tuple[int, int | None, int]:
    revoke_api_key(new.key)
    set_status(tenant, Tenant.Status.SUSPENDED)
    return 10, 10, 1


@scenario
def three_choices_shrunk_by_the_key_limit(tenant: Tenant, new: Any) -> tuple[int, int | None, int]:
    billing.set_key_limit(new.key, Decimal("0.003"))
    return 100, None, 3


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_the_dry_run_agrees_with_the_gateway(
    django_db_setup: Any,  # first: `made` alone would use whatever database is configured
    made: Made,  # noqa: F811
    route: ModelRoute,
    name: str,
) -> None:
    tenant = scenario_tenant(made, route)
    new = create_api_key(tenant=tenant, name="agree", member=made.member(tenant))
    service = ensure_service_user(factories.unique("svc"))
    made.users.append(service)
    prompt_tokens, max_tokens, n = SCENARIOS[name](tenant, new)
    before = held(tenant)

    body: dict[str, Any] = {
        "key_prefix": new.key.prefix,
        "model": route.public_name,
        "prompt_tokens": prompt_tokens,
        "n": n,
    }
    if max_tokens is not None:
        body["max_tokens"] = max_tokens
    response = client_for(service).post(
        f"/api/tenants/{tenant.slug}/budget-check", body, format="json"
    )
    assert response.status_code == 200, response.content
    dry = response.json()
    assert held(tenant) == before  # the dry run holds nothing

    real = gateway_reserve(new.secret, route.public_name, prompt_tokens, max_tokens, n)

    assert dry["reason"] == real["reason"]
    if real["remaining"] is not None:
        assert Decimal(dry["remaining"]) == real["remaining"]
    if real["reason"] == "ok":
        assert dry["allowed"] is True
        assert Decimal(dry["estimated_cost"]) == real["estimated_cost"]
        assert dry["max_output_tokens"] == real["max_output_tokens"]
        assert dry["scope"] == real["scope"]
    else:
        assert dry["allowed"] is False
        assert dry["max_output_tokens"] == 0
