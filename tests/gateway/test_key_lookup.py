"""The cached key lookup the gateway authenticates with."""

from __future__ import annotations

import asyncio

from apps.gateway.auth import KEYS
from apps.gateway.context import KeySnapshot
from apps.tenants.models import Membership
from tests.support import factories
from tests.support.live import World


def lookup(prefix: str) -> KeySnapshot | None:
    async def run() -> KeySnapshot | None:
        from apps.core.db import POOLS

        try:
            return await KEYS.get(prefix)
        finally:
            await POOLS.close_all()

    KEYS.invalidate()
    return asyncio.run(run())


def test_it_names_the_user_of_the_keys_member(world: World) -> None:
    user = factories.user()
    member = Membership.objects.create(user=user, tenant=world.tenant, role="member")
    key, _ = world.new_key(name="member-key", member=member)

    snapshot = lookup(key.prefix)

    assert snapshot is not None
    assert snapshot.member_id == member.pk
    assert snapshot.user_id == user.pk


def test_a_key_without_a_member_has_no_user(world: World) -> None:
    key, _ = world.new_key(name="tenant-key")

    snapshot = lookup(key.prefix)

    assert snapshot is not None
    assert snapshot.member_id is None
    assert snapshot.user_id is None
