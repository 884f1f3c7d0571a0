"""Usage ingest and the budget dry run are for trusted services only: a service credential,
or staff granted `accounts.ingest_usage`. A customer's own token (even a tenant owner's) gets
403, the same 403 for every slug."""

from __future__ import annotations

from collections.abc import Callable
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from apps.accounts.models import User
from tests.api.conftest import grant, snapshot
from tests.api.test_access import call, service_calls, staff_calls


def test_tenant_admins_may_not_report_usage_or_ask_budgets(
    api: Callable[[Any], APIClient],
    tenant_a: Any,
    tenant_b: Any,
    alice: Any,
    bob_key: Any,
) -> None:
    before = snapshot(tenant_a)
    answers = set()
    for slug in (tenant_a.slug, tenant_b.slug, "no-such-tenant"):
        for method, url, body in service_calls(slug, bob_key.key.prefix):
            response = call(api(alice), method, url, body)
            assert response.status_code == 403, (url, response.content)
            answers.add(response.content)
    # One answer for her own tenant, someone else's and none: it tells her nothing.
    assert len(answers) == 1
    assert snapshot(tenant_a) == before


def test_staff_need_the_ingest_permission(
    api: Callable[[Any], APIClient], tenant_a: Any, staff: Any, bob_key: Any
) -> None:
    before = snapshot(tenant_a)
    for method, url, body in service_calls(tenant_a.slug, bob_key.key.prefix):
        assert call(api(staff), method, url, body).status_code == 403, url
    assert snapshot(tenant_a) == before

    trusted = grant(staff, "accounts.ingest_usage")
    codes = [call(api(trusted), *c).status_code for c in service_calls(tenant_a.slug, "")]
    assert codes == [400, 201]  # the dry run needs a key; the usage may go without one
    codes = [
        call(api(trusted), *c).status_code for c in service_calls(tenant_a.slug, bob_key.key.prefix)
    ]
    assert codes == [200, 200]  # the usage is a repeat now


def test_a_service_credential_serves_every_tenant_and_nothing_else(
    api: Callable[[Any], APIClient],
    tenant_a: Any,
    tenant_b: Any,
    service: Any,
    bob_key: Any,
    charlie_key: Any,
) -> None:
    client = api(service)
    for tenant, key in ((tenant_a, bob_key), (tenant_b, charlie_key)):
        codes = [call(client, *c).status_code for c in service_calls(tenant.slug, key.key.prefix)]
        assert codes == [200, 201]
    assert call(client, *service_calls("no-such-tenant", "x")[1]).status_code == 404

    # Not a member and not staff: the tenants' own pages are not its business.
    before = snapshot(tenant_a)
    assert client.get(f"/api/tenants/{tenant_a.slug}/keys").status_code == 404
    for method, url, body in staff_calls(tenant_a):
        assert call(client, method, url, body).status_code == 403, url
    assert snapshot(tenant_a) == before


def run_command(*args: str) -> str:
    out = StringIO()
    call_command("create_service_token", *args, stdout=out, stderr=StringIO())
    return out.getvalue().strip()


def test_create_service_token_prints_a_working_service_token(
    api: Callable[[Any], APIClient], tenant_a: Any, bob_key: Any
) -> None:
    token = run_command("edge-proxy")

    client = api(None)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    check = service_calls(tenant_a.slug, bob_key.key.prefix)[0]
    assert call(client, *check).status_code == 200
    user = User.objects.get(email="edge-proxy@service.invalid")
    assert not user.is_staff
    assert not user.is_superuser
    assert not user.has_usable_password()

    with pytest.raises(CommandError, match="--rotate"):
        run_command("edge-proxy")
    assert run_command("edge-proxy", "--rotate") != token
    assert call(client, *check).status_code == 401
    with pytest.raises(CommandError, match="not a valid service name"):
        run_command("Edge Proxy!")


def test_a_promoted_service_user_gets_no_token(db: Any) -> None:
    run_command("edge-proxy")
    User.objects.filter(email="edge-proxy@service.invalid").update(is_staff=True)
    with pytest.raises(CommandError, match="is staff"):
        run_command("edge-proxy", "--rotate")
