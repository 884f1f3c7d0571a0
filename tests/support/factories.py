"""Small factories: each returns a saved object with sensible defaults."""

from __future__ import annotations

import itertools
import uuid
from decimal import Decimal
from typing import Any

from apps.accounts.models import User
from apps.catalog.models import ModelPrice, ModelRoute, Product, Provider, ProviderKind, RouteTarget
from apps.tenants.models import Tenant
from apps.tenants.services import create_tenant

_seq = itertools.count(1)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def user(email: str | None = None, **extra: Any) -> User:
    return User.objects.create_user(
        email or f"{unique('user')}@example.com", "pw-" + uuid.uuid4().hex, **extra
    )


def product(**extra: Any) -> Product:
    defaults: dict[str, Any] = {
        "name": "Test plan",
        "slug": unique("plan"),
        "monthly_price": Decimal("10.00"),
        "monthly_budget": Decimal("5.00"),
    }
    defaults.update(extra)
    return Product.objects.create(**defaults)


def tenant(name: str | None = None, **extra: Any) -> Tenant:
    name = name or unique("tenant")
    return create_tenant(name=name, slug=unique("t"), **extra)


def provider(kind: str = ProviderKind.MOCK, base_url: str = "", **extra: Any) -> Provider:
    return Provider.objects.create(name=unique(kind), kind=kind, base_url=base_url, **extra)


def route(
    public_name: str | None = None,
    *,
    targets: list[tuple[Provider, str]] | None = None,
    price: tuple[str, str, str, str] | None = ("1.00", "2.00", "0.50", "1.25"),
    **extra: Any,
) -> ModelRoute:
    r = ModelRoute.objects.create(public_name=public_name or unique("model"), **extra)
    for priority, (prov, upstream) in enumerate(targets or []):
        RouteTarget.objects.create(
            route=r, provider=prov, upstream_model=upstream, priority=priority
        )
    if price is not None:
        inp, out, cached, write = (Decimal(v) for v in price)
        ModelPrice.objects.create(
            route=r,
            input_per_mtok=inp,
            output_per_mtok=out,
            cached_input_per_mtok=cached,
            cache_write_per_mtok=write,
        )
    return r
