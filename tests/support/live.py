"""A live gateway for tests: uvicorn in a background thread, plus committed test data.

The server runs in this process (so tests can reset its caches) on its own event loop,
with the ASGI lifespan on, as in production: its startup opens the pools, its shutdown
drains usage records and closes them. pytest-django blocks database access outside
`django_db_blocker`, so the session fixture holds `unblock()` for the server's lifetime.
Everything the server must see is COMMITTED (created outside the `db` fixture's
transaction) and removed at the end.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import uvicorn
from django.db import connection

from apps.billing.ledger import audit_tenant
from apps.catalog.models import ModelPrice, ModelRoute, Product, Provider, ProviderKind
from apps.gateway.auth import KEYS
from apps.gateway.catalog_cache import CATALOG
from apps.keys.models import ApiKey
from apps.keys.services import create_api_key
from apps.tenants.models import Tenant
from tests.fakes.runner import FakeUpstream
from tests.support import factories


class LiveGateway:
    def __init__(self) -> None:
        self.server: uvicorn.Server | None = None
        self.thread: threading.Thread | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> LiveGateway:
        from cloudfreedom.asgi import application

        config = uvicorn.Config(
            application,
            host="127.0.0.1",
            port=0,
            lifespan="on",
            log_level="warning",
            http="httptools",
            loop="asyncio",
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self._run, name="live-gateway", daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the live gateway did not start")
            time.sleep(0.01)
        self.port = self.server.servers[0].sockets[0].getsockname()[1]
        return self

    def _run(self) -> None:
        assert self.server is not None
        asyncio.run(self.server.serve())

    def stop(self) -> None:
        if self.server is not None:
            self.server.should_exit = True
        if self.thread is not None:
            self.thread.join(10)


@dataclass
class World:
    """Committed catalog, plan, tenant and key the live server serves."""

    fakes: dict[str, FakeUpstream]
    product: Product
    tenant: Tenant
    key: ApiKey
    secret: str
    models: dict[str, str] = field(default_factory=dict)  # role → public model name
    created: list[Any] = field(default_factory=list)

    def new_key(self, **extra: Any) -> tuple[ApiKey, str]:
        new = create_api_key(tenant=extra.pop("tenant", self.tenant), **extra)
        return new.key, new.secret

    def new_tenant(self, **extra: Any) -> Tenant:
        return factories.tenant(product=extra.pop("product", self.product), **extra)

    def usage_records(self, tenant: Tenant | None = None) -> list[dict[str, Any]]:
        schema = (tenant or self.tenant).schema_name
        with connection.cursor() as cursor:
            cursor.execute(f'SELECT * FROM "{schema}".usage_usagerecord ORDER BY id')
            names = [c.name for c in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def record_for(
        self, request_id: str, tenant: Tenant | None = None, timeout: float = 5.0
    ) -> dict[str, Any]:
        """The usage record of a request; waits for streams that record after the end."""
        deadline = time.monotonic() + timeout
        while True:
            for record in self.usage_records(tenant):
                if record["request_id"] == request_id:
                    return record
            if time.monotonic() > deadline:
                raise AssertionError(f"no usage record for {request_id}")
            time.sleep(0.02)


def _route(
    name: str,
    targets: list[tuple[Provider, str]],
    *,
    price: tuple[str, str, str, str] | None = ("1.00", "2.00", "0.50", "1.25"),
    **extra: Any,
) -> ModelRoute:
    return factories.route(name, targets=targets, price=price, **extra)


def build_world() -> World:
    fakes = {kind: FakeUpstream(kind).start() for kind in ("openai", "anthropic", "gemini")}
    openai = factories.provider(ProviderKind.OPENAI, fakes["openai"].base_url)
    openai.set_api_key("sk-upstream-openai-secret")
    openai.save()
    backup = factories.provider(ProviderKind.OPENAI_COMPATIBLE, fakes["openai"].base_url)
    anthropic = factories.provider(ProviderKind.ANTHROPIC, fakes["anthropic"].base_url)
    anthropic.set_api_key("sk-ant-upstream-secret")
    anthropic.save()
    gemini = factories.provider(ProviderKind.GEMINI, fakes["gemini"].base_url)
    gemini.set_api_key("AIza-upstream-secret")
    gemini.save()
    mock = factories.provider(ProviderKind.MOCK)
    u = factories.unique
    models = {
        "gpt": _route(u("gw-gpt"), [(openai, "gpt-4o")], retries=0),
        "fallback": _route(
            u("gw-fallback"), [(openai, "gpt-4o"), (anthropic, "claude-x")], retries=1
        ),
        "backup": _route(u("gw-backup"), [(openai, "gpt-4o"), (backup, "gpt-4o-mini")], retries=0),
        "claude": _route(u("gw-claude"), [(anthropic, "claude-x")], retries=0),
        "gemini": _route(u("gw-gemini"), [(gemini, "gemini-x")], retries=0),
        "mock": _route(u("gw-mock"), [(mock, "mock-fast")], retries=0),
        "embed": _route(
            u("gw-embed"), [(openai, "text-embedding-3-small")], mode=ModelRoute.Mode.EMBEDDING
        ),
        "unpriced": _route(u("gw-unpriced"), [(openai, "gpt-4o")], price=None),
    }
    outsider = _route(u("gw-outsider"), [(openai, "gpt-4o")])
    product = factories.product(markup_percent=Decimal("10"), monthly_budget=Decimal("5.00"))
    product.allowed_models.set(models.values())
    tenant = factories.tenant(product=product)
    new = create_api_key(tenant=tenant, name="live")
    world = World(
        fakes=fakes,
        product=product,
        tenant=tenant,
        key=new.key,
        secret=new.secret,
        models={k: v.public_name for k, v in models.items()},
        created=[openai, backup, anthropic, gemini, mock],
    )
    world.models["outsider"] = outsider.public_name
    return world


def destroy_world(world: World) -> None:
    for fake in world.fakes.values():
        fake.stop()
    names = list(world.models.values())
    with contextlib.suppress(Exception):
        ApiKey.objects.filter(tenant__product=world.product).delete()
    for tenant in Tenant.objects.filter(product=world.product):
        with contextlib.suppress(Exception):
            tenant.delete(force_drop=True)
    ModelPrice.objects.filter(route__public_name__in=names).delete()
    ModelRoute.objects.filter(public_name__in=names).delete()
    with contextlib.suppress(Exception):
        world.product.delete()
    for provider in world.created:
        with contextlib.suppress(Exception):
            provider.delete()


def reset_caches() -> None:
    CATALOG.invalidate()
    KEYS.invalidate()


@contextlib.contextmanager
def live_server(django_db_blocker: Any) -> Iterator[tuple[LiveGateway, World]]:
    problems: list[str] = []
    with django_db_blocker.unblock():
        world = build_world()
        gateway = LiveGateway().start()
        try:
            yield gateway, world
            # Every request the live tests made, plain, streamed, failed or abandoned, must
            # leave counters, ledger and usage records in agreement (audit_ledger's check).
            gateway.stop()
            problems = audit_world(world)
        finally:
            gateway.stop()
            destroy_world(world)
    assert not problems, "audit_ledger after the live tests:\n" + "\n".join(problems)


def audit_world(world: World) -> list[str]:
    return [
        f"{tenant.slug}: {problem}"
        for tenant in Tenant.objects.filter(product=world.product).order_by("slug")
        for problem in audit_tenant(tenant)
    ]


def auth(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def user_message(text: str = "Hello") -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]
