"""API key authentication for /v1.

A key is looked up by its prefix and checked with `hmac.compare_digest` against the
stored HMAC digest. The key+tenant row is cached per process for a few seconds
(`KeySnapshot`), so the hot path makes no lookup query.

Revocation, expiry and tenant suspension still take effect on the very next request: the
cache can only be stale in the "still usable" direction, and every request that goes on
to an upstream re-reads `revoked_at`, `expires_at` and the tenant's status, joined onto
the budget reservation's statement (`accounting.reserve`: one round trip for both).
Requests that do not reserve (`GET /v1/models`) run the same check on its own. A snapshot
that says "revoked" or "suspended" is refused at once.
"""

from __future__ import annotations

import hmac
import time
from datetime import datetime

import psycopg
from django.conf import settings
from django.utils import timezone

from apps.core import db
from apps.gateway.context import KeySnapshot
from apps.gateway.errors import GatewayError
from apps.keys.services import digest_of, split_key

DEFAULT_TTL = 5.0
MAX_ENTRIES = 50_000

LOOKUP_SQL = """
SELECT k.id, k.prefix, k.digest, k.member_id, k.allowed_models, k.rpm_limit, k.tpm_limit,
       k.expires_at, k.revoked_at IS NOT NULL, t.id, t.schema_name, t.status, t.kind,
       t.product_id, t.rpm_limit, t.tpm_limit, m.user_id
FROM keys_apikey k JOIN tenants_tenant t ON t.id = k.tenant_id
LEFT JOIN tenants_membership m ON m.id = k.member_id
WHERE k.prefix = %s
"""
# The per-request freshness check (see the module docstring).
STATUS_SQL = """
SELECT k.revoked_at IS NOT NULL, k.expires_at, t.status
FROM keys_apikey k JOIN tenants_tenant t ON t.id = k.tenant_id
WHERE k.id = %s
"""

INVALID_KEY = GatewayError(
    401, "Incorrect API key provided.", code="invalid_api_key", error_type="authentication_error"
)


def missing_key() -> GatewayError:
    return GatewayError(
        401,
        "You didn't provide an API key. Send it as 'Authorization: Bearer <key>' or 'x-api-key'.",
        code="missing_api_key",
        error_type="authentication_error",
    )


def invalid_key() -> GatewayError:
    return GatewayError(
        INVALID_KEY.status,
        INVALID_KEY.message,
        code=INVALID_KEY.code,
        error_type="authentication_error",
    )


def extract_secret(headers: dict[str, str]) -> str | None:
    """The key from `Authorization: Bearer …` (OpenAI, Anthropic SDK ≥ 2) or `x-api-key`."""
    auth = headers.get("authorization")
    if auth:
        scheme, _, value = auth.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
    value = headers.get("x-api-key")
    return value.strip() if value and value.strip() else None


def refuse_if_unusable(revoked: bool, expires_at: datetime | None, tenant_status: str) -> None:
    if revoked:
        raise GatewayError(403, "This API key has been revoked.", code="key_revoked")
    if expires_at is not None and expires_at <= timezone.now():
        raise GatewayError(403, "This API key has expired.", code="key_expired")
    if tenant_status != "active":
        raise GatewayError(403, "This workspace is suspended.", code="tenant_suspended")


class KeyCache:
    """prefix → KeySnapshot for a few seconds. A registry object owned by this module."""

    def __init__(self) -> None:
        self._entries: dict[str, KeySnapshot] = {}

    @property
    def ttl(self) -> float:
        return float(getattr(settings, "GATEWAY_KEY_CACHE_TTL", DEFAULT_TTL))

    async def get(self, prefix: str) -> KeySnapshot | None:
        snapshot = self._entries.get(prefix)
        if snapshot is not None and time.monotonic() - snapshot.loaded_at <= self.ttl:
            return snapshot
        snapshot = await self._load(prefix)
        if snapshot is None:
            self._entries.pop(prefix, None)
            return None
        if len(self._entries) >= MAX_ENTRIES:
            self._entries.clear()  # crude but bounded; refills cost one query per key
        self._entries[prefix] = snapshot
        return snapshot

    async def _load(self, prefix: str) -> KeySnapshot | None:
        async with db.connection() as conn:
            cur = await conn.execute(LOOKUP_SQL, (prefix,))
            row = await cur.fetchone()
        if row is None:
            return None
        return KeySnapshot(
            key_id=row[0],
            prefix=row[1],
            digest=row[2],
            member_id=row[3],
            user_id=row[16],
            allowed_models=frozenset(row[4] or ()),
            key_rpm=row[5],
            key_tpm=row[6],
            expires_at=row[7],
            revoked=row[8],
            tenant_id=row[9],
            schema=row[10],
            tenant_active=row[11] == "active",
            tenant_kind=row[12],
            product_id=row[13],
            tenant_rpm=row[14],
            tenant_tpm=row[15],
            loaded_at=time.monotonic(),
        )

    def invalidate(self, prefix: str | None = None) -> None:
        if prefix is None:
            self._entries.clear()
        else:
            self._entries.pop(prefix, None)


KEYS = KeyCache()


async def authenticate(headers: dict[str, str]) -> KeySnapshot:
    """The caller's key, or GatewayError 401/403. Never puts the key in a message or log."""
    secret = extract_secret(headers)
    if secret is None:
        raise missing_key()
    prefix = split_key(secret)
    if prefix is None:
        raise invalid_key()
    try:
        snapshot = await KEYS.get(prefix)
    except psycopg.Error:
        raise GatewayError(
            503, "Authentication is temporarily unavailable.", code="auth_unavailable"
        )
    if snapshot is None or not hmac.compare_digest(snapshot.digest, digest_of(secret)):
        raise invalid_key()
    if snapshot.tenant_kind != "customer" and snapshot.tenant_kind != "platform":
        raise invalid_key()
    refuse_if_unusable(
        snapshot.revoked, snapshot.expires_at, "active" if snapshot.tenant_active else "suspended"
    )
    return snapshot


async def check_fresh(conn: psycopg.AsyncConnection, key_id: int) -> None:
    """Re-read revocation/expiry/suspension now (for requests that reserve nothing)."""
    cur = await conn.execute(STATUS_SQL, (key_id,))
    row = await cur.fetchone()
    if row is None:
        raise invalid_key()
    refuse_if_unusable(row[0], row[1], row[2])
