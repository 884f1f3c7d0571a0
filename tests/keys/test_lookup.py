"""The key lookup the gateway authenticates with: its SQL agrees with the ORM, does not
depend on the connection's search_path, and is cached with one load per cold key."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, TypeVar

import psycopg
import pytest
from django.utils import timezone

from apps.core import db
from apps.keys import lookup
from apps.keys.lookup import KEYS, KeySnapshot, key_status, load_key
from apps.keys.models import ApiKey
from tests.billing.conftest import Made

T = TypeVar("T")


def run(make: Callable[[], Awaitable[T]]) -> T:
    async def main() -> T:
        try:
            return await make()
        finally:
            await db.POOLS.close_all()

    return asyncio.run(main())


def cached(prefix: str) -> KeySnapshot | None:
    KEYS.invalidate()
    return run(lambda: KEYS.get(prefix))


def test_it_names_the_user_of_the_keys_member(made: Made) -> None:
    tenant = made.tenant()
    member = made.member(tenant)
    key = made.key(tenant, member)

    snapshot = cached(key.prefix)

    assert snapshot is not None
    assert (snapshot.member_id, snapshot.user_id) == (member.pk, member.user_id)


def test_a_key_without_a_member_has_no_user(made: Made) -> None:
    key = made.key(made.tenant())

    snapshot = cached(key.prefix)

    assert snapshot is not None
    assert (snapshot.member_id, snapshot.user_id) == (None, None)


def test_the_sql_and_the_orm_agree(made: Made) -> None:
    tenant = made.tenant()
    tenant.rpm_limit, tenant.tpm_limit = 70, 7000
    tenant.save()
    key = made.key(
        tenant,
        made.member(tenant),
        allowed_models=["a", "b"],
        rpm_limit=5,
        tpm_limit=500,
        expires_at=timezone.now() + timedelta(days=1),
        revoked_at=timezone.now(),
    )
    orm = ApiKey.objects.select_related("tenant", "member").get(pk=key.pk)

    snapshot = cached(key.prefix)

    assert snapshot is not None
    assert snapshot == KeySnapshot(
        key_id=orm.pk,
        prefix=orm.prefix,
        digest=orm.digest,
        member_id=orm.member_id,
        user_id=orm.member.user_id if orm.member else None,
        allowed_models=frozenset(orm.allowed_models),
        key_rpm=orm.rpm_limit,
        key_tpm=orm.tpm_limit,
        expires_at=orm.expires_at,
        revoked=orm.is_revoked,
        tenant_id=orm.tenant_id,
        schema=orm.tenant.schema_name,
        tenant_active=orm.tenant.status == "active",
        tenant_kind=orm.tenant.kind,
        product_id=orm.tenant.product_id,
        tenant_rpm=orm.tenant.rpm_limit,
        tenant_tpm=orm.tenant.tpm_limit,
        loaded_at=snapshot.loaded_at,
    )
    status = run(lambda: _status(key.pk))
    assert status == lookup.KeyStatus(True, orm.expires_at, orm.tenant.status)


async def _status(key_id: int) -> lookup.KeyStatus | None:
    async with db.connection() as conn:
        return await key_status(conn, key_id)


def test_the_sql_works_whatever_the_search_path(made: Made) -> None:
    """A connection pointed at a tenant schema (or anywhere) still finds public's keys."""
    tenant = made.tenant()
    key = made.key(tenant)

    async def on_tenant_schema() -> tuple[KeySnapshot | None, lookup.KeyStatus | None]:
        async with await psycopg.AsyncConnection.connect(db.conninfo(), autocommit=True) as conn:
            await conn.execute(
                psycopg.sql.SQL("SET search_path TO {}").format(
                    psycopg.sql.Identifier(tenant.schema_name)
                )
            )
            return await load_key(conn, key.prefix), await key_status(conn, key.pk)

    snapshot, status = asyncio.run(on_tenant_schema())

    assert snapshot is not None and snapshot.key_id == key.pk
    assert status is not None and not status.revoked


def test_concurrent_misses_on_one_key_share_a_single_query(
    made: Made, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = made.key(made.tenant())
    loads: list[str] = []
    real = lookup.load_key

    async def counted(conn: psycopg.AsyncConnection, prefix: str) -> Any:
        loads.append(prefix)
        return await real(conn, prefix)

    monkeypatch.setattr(lookup, "load_key", counted)

    async def burst() -> list[KeySnapshot | None]:
        return await asyncio.gather(*(KEYS.get(key.prefix) for _ in range(200)))

    KEYS.invalidate()
    snapshots = run(burst)

    assert loads == [key.prefix]
    assert {s.key_id if s else None for s in snapshots} == {key.pk}


def test_an_unknown_prefix_is_none_and_not_cached(made: Made) -> None:
    assert cached("cfk_nosuchkey0") is None
