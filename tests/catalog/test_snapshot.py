"""The gateway's catalog snapshot: read by the catalog's own SQL, agreeing with the ORM."""

from __future__ import annotations

import ast
from decimal import Decimal as D
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from apps.catalog.models import ModelRoute, Product, ProviderKind, RouteTarget
from apps.catalog.pricing import price_in_force
from apps.catalog.snapshot import (
    PLANS_SQL,
    PRICES_SQL,
    ROUTES_SQL,
    TARGETS_SQL,
    CatalogSnapshot,
    build_snapshot,
)
from tests.support import factories

GATEWAY = Path(__file__).resolve().parents[2] / "apps" / "gateway"


def _snapshot_via_sql() -> CatalogSnapshot:
    """The statements the gateway runs, on the test's own connection and transaction."""
    with connection.cursor() as cur:
        rows = []
        for statement, params in (
            (TARGETS_SQL, None),
            (PRICES_SQL, [timezone.now()]),
            (ROUTES_SQL, None),
            (PLANS_SQL, None),
        ):
            cur.execute(statement, params)
            rows.append(cur.fetchall())
    return build_snapshot(*rows)


@pytest.mark.django_db
def test_the_sql_snapshot_agrees_with_the_orm() -> None:
    openai = factories.provider(ProviderKind.OPENAI, "http://upstream.example/v1/")
    openai.set_api_key("sk-stored")
    openai.save()
    mock = factories.provider(timeout_seconds=D("7.5"))
    route = factories.route(targets=[(openai, "gpt-x"), (mock, "mock-fast")], retries=2)
    RouteTarget.objects.filter(route=route, provider=mock).update(timeout_seconds=D("3"))
    off = factories.route(targets=[(mock, "m")], is_active=False)
    unpriced = factories.route(targets=[(mock, "m")], price=None)
    plan = factories.product(markup_percent=D("12.5"), rpm_limit=60)
    plan.allowed_models.set([route, off, unpriced])
    empty_plan = factories.product()

    snapshot = _snapshot_via_sql()

    for orm in ModelRoute.objects.filter(is_active=True):
        info = snapshot.routes[orm.public_name]
        assert (info.route_id, info.mode, info.max_output_tokens, info.retries) == (
            orm.pk,
            orm.mode,
            orm.max_output_tokens,
            orm.retries,
        )
        assert info.current_price() == price_in_force(orm)
        targets = orm.targets.filter(is_active=True, provider__is_active=True).order_by(
            "priority", "id"
        )
        assert [(t.provider_name, t.upstream_model) for t in info.targets] == [
            (t.provider.name, t.upstream_model) for t in targets
        ]
    assert off.public_name not in snapshot.routes
    first, second = snapshot.routes[route.public_name].targets
    assert (first.base_url, first.api_key, first.timeout) == (
        "http://upstream.example/v1",
        "sk-stored",
        120.0,
    )
    assert (second.api_key, second.timeout) == ("", 3.0)  # the target's timeout wins
    assert snapshot.routes[unpriced.public_name].current_price() is None
    for product in Product.objects.filter(pk__in=[plan.pk, empty_plan.pk]):
        view = snapshot.plans[product.pk]
        assert view.markup_factor == product.markup_factor
        assert (view.rpm_limit, view.tpm_limit) == (product.rpm_limit, product.tpm_limit)
        assert view.allowed_models == set(
            product.allowed_models.filter(is_active=True).values_list("public_name", flat=True)
        )
    assert snapshot.plans[plan.pk].allowed_models == {route.public_name, unpriced.public_name}


def test_the_gateway_reads_no_catalog_table_itself() -> None:
    """The catalog owns its tables: the gateway calls apps.catalog.snapshot/pricing and
    neither imports the catalog's models nor names its tables."""
    offenders = []
    for path in sorted(GATEWAY.rglob("*.py")):
        source = path.read_text()
        if "catalog_modelroute" in source or "catalog_provider" in source:
            offenders.append(f"{path.name}: names a catalog table")
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.ImportFrom) and node.module == "apps.catalog.models":
                offenders.append(f"{path.name}: imports apps.catalog.models")
    assert offenders == []
