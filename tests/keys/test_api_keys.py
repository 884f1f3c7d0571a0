from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from apps.keys.models import ApiKey
from apps.keys.services import KeyError_, create_api_key, find_key, revoke_api_key, split_key


def test_it_splits_keys_whose_secret_part_contains_underscores() -> None:
    assert split_key("cfk_abcdefghij_a_b-c_d") == "cfk_abcdefghij"
    assert split_key("cfk_short_x") is None
    assert split_key("sk-somethingelse") is None
    assert split_key("cfk_abcdefghij_") is None


def test_it_stores_only_a_digest_and_finds_every_key_by_its_secret(tenant_a: Any) -> None:
    secrets = [create_api_key(tenant=tenant_a, name=f"k{i}").secret for i in range(40)]
    for secret in secrets:
        key = find_key(secret)
        assert key is not None
        assert secret not in (key.digest, key.prefix)
        assert secret.startswith(key.prefix + "_")
    assert find_key(secrets[0][:-1] + ("A" if secrets[0][-1] != "A" else "B")) is None


def test_revoking_is_idempotent_and_keeps_the_first_time(tenant_a: Any) -> None:
    key = create_api_key(tenant=tenant_a).key
    revoke_api_key(key)
    first = ApiKey.objects.get(pk=key.pk).revoked_at
    revoke_api_key(ApiKey.objects.get(pk=key.pk))
    assert ApiKey.objects.get(pk=key.pk).revoked_at == first
    assert not ApiKey.objects.usable().filter(pk=key.pk).exists()


def test_it_refuses_a_past_expiry_and_a_member_of_another_tenant(
    tenant_a: Any, tenant_b: Any, charlie: Any
) -> None:
    with pytest.raises(KeyError_):
        create_api_key(tenant=tenant_a, expires_at=timezone.now() - timedelta(seconds=1))
    outsider = tenant_b.memberships.get(user=charlie)
    with pytest.raises(KeyError_):
        create_api_key(tenant=tenant_a, member=outsider)
