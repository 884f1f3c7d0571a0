from __future__ import annotations

from collections.abc import Callable
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient


def run(*args: str) -> str:
    out = StringIO()
    call_command("create_api_token", *args, stdout=out, stderr=StringIO())
    return out.getvalue().strip()


def test_it_prints_a_working_token_once(
    api: Callable[[Any], APIClient], tenant_a: Any, alice: Any
) -> None:
    token = run("ALICE@example.com")

    client = api(None)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get(f"/api/tenants/{tenant_a.slug}/budget").status_code == 200

    with pytest.raises(CommandError, match="--rotate"):
        run(alice.email)
    rotated = run(alice.email, "--rotate")
    assert rotated != token
    assert client.get(f"/api/tenants/{tenant_a.slug}/budget").status_code == 401


def test_it_refuses_users_the_api_would_refuse(tenant_a: Any, bob: Any, staff: Any) -> None:
    with pytest.raises(CommandError, match="staff and tenant owners"):
        run(bob.email)
    with pytest.raises(CommandError, match="No active user"):
        run("ghost@example.com")
    assert len(run(staff.email)) == 40
