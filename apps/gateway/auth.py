"""API key authentication for /v1.

A key is found by its prefix (`apps.keys.lookup`: cached per process for a few seconds,
so the hot path makes no lookup query) and checked with `hmac.compare_digest` against the
stored HMAC digest.

Revocation, expiry and tenant suspension still take effect on the very next request: the
cache can only be stale in the "still usable" direction, and every request that goes on
to an upstream re-reads `revoked_at`, `expires_at` and the tenant's status, joined onto
the budget reservation's statement (`accounting.reserve`: one round trip for both).
Requests that do not reserve (`GET /v1/models`) run the same check on its own
(`check_fresh`). A snapshot that says "revoked" or "suspended" is refused at once.
"""

from __future__ import annotations

import hmac
from datetime import datetime

import psycopg
from django.utils import timezone

from apps.gateway.errors import GatewayError
from apps.keys.lookup import KEYS, KeySnapshot, key_status
from apps.keys.services import digest_of, split_key

__all__ = ["KEYS", "authenticate", "check_fresh", "extract_secret", "refuse_if_unusable"]

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
    except psycopg.Error:  # a pool timeout included
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
    status = await key_status(conn, key_id)
    if status is None:
        raise invalid_key()
    refuse_if_unusable(status.revoked, status.expires_at, status.tenant_status)
