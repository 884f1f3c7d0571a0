from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django_tenants.utils import schema_context, schema_exists

from apps.tenants.models import Domain, Membership, Tenant
from apps.tenants.services import TenantError, create_tenant
from apps.usage.models import UsageRecord


def _tables(schema: str) -> set[str]:
    with connection.cursor() as cur:
        cur.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s", [schema]
        )
        return {row[0] for row in cur.fetchall()}


def test_it_clones_the_template_schema(alice: Any, product: Any) -> None:
    tenant = create_tenant(name="Acme", slug="acme-clone", product=product, owner=alice)

    assert schema_exists(tenant.schema_name)
    assert _tables(tenant.schema_name) == _tables(settings.TENANT_BASE_SCHEMA)
    assert Domain.objects.get(tenant=tenant).domain == "acme-clone.localhost"
    assert Membership.objects.get(tenant=tenant).role == "owner"
    # The migration history is there too (faked), so migrate_schemas keeps it current.
    with connection.cursor() as cur:
        cur.execute(f'SELECT count(*) FROM "{tenant.schema_name}".django_migrations')
        assert cur.fetchone()[0] > 0


def test_the_new_tenant_is_usable_right_away(product: Any) -> None:
    tenant = create_tenant(name="Usable", slug="usable-now", product=product)
    with schema_context(tenant.schema_name):
        UsageRecord.objects.create(
            request_id="r1",
            created_at=datetime.now(UTC),
            endpoint="chat",
            model="m",
            status="success",
        )
        assert UsageRecord.objects.count() == 1


def test_it_refuses_a_duplicate_or_invalid_slug_and_leaves_nothing(product: Any) -> None:
    create_tenant(name="One", slug="dup-slug", product=product)
    with pytest.raises(TenantError):
        create_tenant(name="Two", slug="dup-slug", product=product)
    with pytest.raises(TenantError):
        create_tenant(name="Bad", slug="Bad Slug!", product=product)
    assert Tenant.objects.filter(name__in=["Two", "Bad"]).count() == 0


def test_a_failure_midway_leaves_no_schema_behind(product: Any, monkeypatch: Any) -> None:
    def explode(**kwargs: Any) -> None:
        raise RuntimeError("domain table unavailable")

    monkeypatch.setattr(Domain.objects, "create", explode)
    with pytest.raises(RuntimeError):
        create_tenant(name="Half", slug="half-made", product=product)
    assert not Tenant.objects.filter(slug="half-made").exists()
    assert not schema_exists("t_half_made")


def test_a_failed_delete_keeps_both_the_row_and_the_schema(product: Any, monkeypatch: Any) -> None:
    from django.db import models

    tenant = create_tenant(name="Keep", slug="keep-me", product=product)

    def explode(self: Any, *args: Any, **kwargs: Any) -> None:
        raise RuntimeError("row delete failed")

    monkeypatch.setattr(models.Model, "delete", explode)
    with pytest.raises(RuntimeError):
        tenant.delete(force_drop=True)
    monkeypatch.undo()
    assert Tenant.objects.filter(slug="keep-me").exists()
    assert schema_exists(tenant.schema_name)
