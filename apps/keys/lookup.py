"""Finding a key for the /v1 hot path: one SQL lookup, cached per process for seconds.

The gateway authenticates every request by key prefix. A query per request would cost a
pool connection and a round trip each time, so this module keeps an immutable
`KeySnapshot` per prefix for `GATEWAY_KEY_CACHE_TTL` seconds. Concurrent misses for one
prefix share a single load (a burst on a cold key costs one query, not one per request).

The cache can only be stale in the "still usable" direction: `key_status` re-reads
revocation, expiry and the tenant's status for every request that goes upstream (the
budget reservation joins the same check onto its own round trip).

The SQL is schema-qualified (`public.`): it must not depend on the connection's
`search_path`, which a tenant-scoped connection points elsewhere. The ORM's view of the
same rows is `apps.keys.models.ApiKey` (tests/keys/test_lookup.py checks they agree).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import datetime

import psycopg
from django.conf import settings

from apps.core import db

DEFAULT_TTL = 5.0
MAX_ENTRIES = 50_000

LOOKUP_SQL = """
SELECT k.id, k.prefix, k.digest, k.member_id, m.user_id, k.allowed_models, k.rpm_limit,
       k.tpm_limit, k.expires_at, k.revoked_at IS NOT NULL, t.id, t.schema_name, t.status,
       t.kind, t.product_id, t.rpm_limit, t.tpm_limit
FROM public.keys_apikey k
JOIN public.tenants_tenant t ON t.id = k.tenant_id
LEFT JOIN public.tenants_membership m ON m.id = k.member_id
WHERE k.prefix = %s
"""
# Whether the key may still be used, as of now (see the module docstring).
STATUS_SQL = """
SELECT k.revoked_at IS NOT NULL, k.expires_at, t.status
FROM public.keys_apikey k JOIN public.tenants_tenant t ON t.id = k.tenant_id
WHERE k.id = %s
"""


@dataclass(frozen=True, slots=True)
class KeySnapshot:
    """A key row joined with its tenant, as of `loaded_at` (monotonic seconds)."""

    key_id: int
    prefix: str
    digest: str
    member_id: int | None
    user_id: int | None  # the member's user; None for a key without a member
    allowed_models: frozenset[str]  # empty: whatever the plan allows
    key_rpm: int | None
    key_tpm: int | None
    expires_at: datetime | None
    revoked: bool
    tenant_id: int
    schema: str
    tenant_active: bool
    tenant_kind: str
    product_id: int | None
    tenant_rpm: int | None
    tenant_tpm: int | None
    loaded_at: float


@dataclass(frozen=True, slots=True)
class KeyStatus:
    revoked: bool
    expires_at: datetime | None
    tenant_status: str


async def load_key(conn: psycopg.AsyncConnection, prefix: str) -> KeySnapshot | None:
    """The key with this prefix joined with its tenant and member, uncached."""
    cur = await conn.execute(LOOKUP_SQL, (prefix,))
    row = await cur.fetchone()
    if row is None:
        return None
    return KeySnapshot(
        key_id=row[0],
        prefix=row[1],
        digest=row[2],
        member_id=row[3],
        user_id=row[4],
        allowed_models=frozenset(row[5] or ()),
        key_rpm=row[6],
        key_tpm=row[7],
        expires_at=row[8],
        revoked=row[9],
        tenant_id=row[10],
        schema=row[11],
        tenant_active=row[12] == "active",
        tenant_kind=row[13],
        product_id=row[14],
        tenant_rpm=row[15],
        tenant_tpm=row[16],
        loaded_at=time.monotonic(),
    )


async def key_status(conn: psycopg.AsyncConnection, key_id: int) -> KeyStatus | None:
    """Revocation, expiry and the tenant's status now; None if the key was deleted."""
    cur = await conn.execute(STATUS_SQL, (key_id,))
    row = await cur.fetchone()
    if row is None:
        return None
    return KeyStatus(revoked=bool(row[0]), expires_at=row[1], tenant_status=row[2])


class KeyCache:
    """prefix → KeySnapshot for a few seconds. A registry object owned by this module."""

    def __init__(self) -> None:
        self._entries: dict[str, KeySnapshot] = {}
        # Loads in flight, so concurrent misses on one prefix wait for the same query.
        # Tasks belong to one event loop; a miss from another loop loads on its own.
        self._loading: dict[str, asyncio.Task[KeySnapshot | None]] = {}

    @property
    def ttl(self) -> float:
        return float(getattr(settings, "GATEWAY_KEY_CACHE_TTL", DEFAULT_TTL))

    async def get(self, prefix: str) -> KeySnapshot | None:
        """The snapshot for `prefix`, or None if no key has it. Raises psycopg.Error (a
        pool timeout included) when the database cannot answer."""
        snapshot = self._entries.get(prefix)
        if snapshot is not None and time.monotonic() - snapshot.loaded_at <= self.ttl:
            return snapshot
        loop = asyncio.get_running_loop()
        task = self._loading.get(prefix)
        if task is None or task.get_loop() is not loop:
            task = loop.create_task(self._load(prefix))
            self._loading[prefix] = task
            task.add_done_callback(lambda done: self._loaded(prefix, done))
        # Shielded: a client that disconnects must not cancel the load others wait for.
        return await asyncio.shield(task)

    def _loaded(self, prefix: str, task: asyncio.Task[KeySnapshot | None]) -> None:
        if self._loading.get(prefix) is task:
            del self._loading[prefix]
        if not task.cancelled():
            task.exception()  # retrieved: waiters that left must not leave it unlogged

    async def _load(self, prefix: str) -> KeySnapshot | None:
        async with db.connection() as conn:
            snapshot = await load_key(conn, prefix)
        if snapshot is None:
            self._entries.pop(prefix, None)
            return None
        if len(self._entries) >= MAX_ENTRIES:
            self._entries.clear()  # crude but bounded; refills cost one query per key
        self._entries[prefix] = snapshot
        return snapshot

    def invalidate(self, prefix: str | None = None) -> None:
        if prefix is None:
            self._entries.clear()
        else:
            self._entries.pop(prefix, None)


KEYS = KeyCache()
