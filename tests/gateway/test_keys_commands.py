"""create_api_key prints the secret once on its own line; revoke_api_key takes effect on the
very next request, even with the key's snapshot cached."""

from __future__ import annotations

import io

import httpx
from django.core.management import call_command

from apps.billing.ledger import audit_tenant
from apps.billing.models import Budget, LedgerEntry, Reservation
from apps.keys.models import ApiKey
from apps.tenants.models import Tenant
from tests.support.live import World, auth, user_message


def test_create_then_revoke(base_url: str, world: World) -> None:
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "create_api_key", "--tenant", world.tenant.slug, "--name", "cli", stdout=out, stderr=err
    )
    lines = out.getvalue().splitlines()
    assert len(lines) == 1
    secret = lines[0]
    assert secret.startswith("cfk_") and secret not in err.getvalue()
    key = ApiKey.objects.get(tenant=world.tenant, name="cli")
    assert secret.startswith(key.prefix + "_") and key.digest != secret

    body = {"model": world.models["gpt"], "messages": user_message()}
    assert (
        httpx.post(base_url + "/chat/completions", json=body, headers=auth(secret)).status_code
        == 200
    )

    call_command("revoke_api_key", key.prefix, stdout=io.StringIO())
    r = httpx.post(base_url + "/chat/completions", json=body, headers=auth(secret))
    assert r.status_code == 403 and r.json()["error"]["code"] == "key_revoked"
    r = httpx.get(base_url + "/models", headers=auth(secret))
    assert r.status_code == 403
    assert len(world.fakes["openai"].requests) == 1


def test_suspending_a_tenant_takes_effect_at_once(base_url: str, world: World) -> None:
    tenant = world.new_tenant()
    _, secret = world.new_key(tenant=tenant)
    body = {"model": world.models["gpt"], "messages": user_message()}
    assert (
        httpx.post(base_url + "/chat/completions", json=body, headers=auth(secret)).status_code
        == 200
    )
    Tenant.objects.filter(pk=tenant.pk).update(status=Tenant.Status.SUSPENDED)
    r = httpx.post(base_url + "/chat/completions", json=body, headers=auth(secret))
    assert r.status_code == 403 and r.json()["error"]["code"] == "tenant_suspended"
    # The refused request reserved nothing, charged nothing and wrote no record, and the
    # money trail still audits clean.
    assert len(world.usage_records(tenant)) == 1
    assert Reservation.objects.filter(tenant=tenant).count() == 1
    assert LedgerEntry.objects.filter(tenant=tenant, kind="usage").count() == 1
    assert Budget.objects.get(tenant=tenant, scope="tenant").reserved == 0
    assert audit_tenant(tenant) == []
