"""Creating, finding and revoking API keys.

A key looks like `cfk_<prefix>_<secret>`. Only the prefix (visible, indexed) and the
HMAC-SHA256 digest of the whole key are stored; the key itself is shown once.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.billing.services import set_key_limit
from apps.keys.models import ApiKey

if TYPE_CHECKING:
    from apps.accounts.models import User
    from apps.tenants.models import Membership, Tenant

KEY_SCHEME = "cfk"
PREFIX_CHARS = string.ascii_lowercase + string.digits
PREFIX_LEN = 10


class KeyError_(ValueError):
    pass


@dataclass(frozen=True)
class NewKey:
    key: ApiKey
    secret: str  # the whole key; returned once, never stored


def digest_of(secret: str) -> str:
    return hmac.new(
        settings.API_KEY_HMAC_SECRET.encode(), secret.encode(), hashlib.sha256
    ).hexdigest()


def split_key(secret: str) -> str | None:
    """Return the lookup prefix of a well-formed key, else None."""
    # The random part is urlsafe base64 and may itself contain "_": split twice only.
    parts = secret.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_SCHEME or len(parts[1]) != PREFIX_LEN or not parts[2]:
        return None
    return f"{KEY_SCHEME}_{parts[1]}"


def verify(key: ApiKey, secret: str) -> bool:
    return hmac.compare_digest(key.digest, digest_of(secret))


def create_api_key(
    *,
    tenant: Tenant,
    name: str = "default",
    member: Membership | None = None,
    created_by: User | None = None,
    allowed_models: list[str] | None = None,
    expires_at: datetime | None = None,
    rpm_limit: int | None = None,
    tpm_limit: int | None = None,
) -> NewKey:
    if member is not None and member.tenant_id != tenant.pk:
        raise KeyError_("The member does not belong to this tenant.")
    if expires_at is not None and expires_at <= timezone.now():
        raise KeyError_("The expiry must be in the future.")
    prefix = f"{KEY_SCHEME}_" + "".join(secrets.choice(PREFIX_CHARS) for _ in range(PREFIX_LEN))
    secret = f"{prefix}_{secrets.token_urlsafe(32)}"
    key = ApiKey.objects.create(
        tenant=tenant,
        member=member,
        created_by=created_by,
        name=name,
        prefix=prefix,
        digest=digest_of(secret),
        allowed_models=sorted(set(allowed_models or [])),
        expires_at=expires_at,
        rpm_limit=rpm_limit,
        tpm_limit=tpm_limit,
    )
    return NewKey(key=key, secret=secret)


@transaction.atomic
def issue_api_key(
    *,
    tenant: Tenant,
    created_by: User | None,
    monthly_limit: Decimal | None = None,
    **options: Any,
) -> NewKey:
    """A key (see `create_api_key` for `options`) and, if given, its monthly spending limit:
    both or neither."""
    new = create_api_key(tenant=tenant, created_by=created_by, **options)
    if monthly_limit is not None:
        set_key_limit(new.key, monthly_limit)
    return new


def revoke_api_key(key: ApiKey) -> ApiKey:
    """Idempotent: revoking twice keeps the first revocation time."""
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
    return key


def find_key(secret: str) -> ApiKey | None:
    """The key this secret belongs to (revoked and expired ones included), else None."""
    prefix = split_key(secret)
    if prefix is None:
        return None
    key = ApiKey.objects.select_related("tenant").filter(prefix=prefix).first()
    if key is None or not verify(key, secret):
        return None
    return key
