"""Twenty people sign up at the same moment, over HTTP, against the real ASGI app: every
signup succeeds with its own user, tenant, schema, domain and budget, and nothing is shared.

The server runs in this process (tests/support/live.py) on the test database, so what it
writes is committed; the test removes its users and tenants (with their schemas) after.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from django.contrib.sessions.models import Session
from django.core import mail
from django_tenants.utils import schema_exists

from apps.accounts.models import User
from apps.billing.models import Budget
from apps.tenants.models import Domain, Membership, Tenant
from tests.accounts.flows import STRONG_PASSWORD
from tests.support import factories
from tests.support.live import LiveGateway

SIGNUPS = 20


@pytest.fixture
def live(django_db_setup: Any, django_db_blocker: Any) -> Iterator[str]:
    with django_db_blocker.unblock():
        server = LiveGateway().start()
        try:
            yield server.url
        finally:
            server.stop()


def sign_up(
    url: str, email: str, client_ip: str, start: threading.Barrier
) -> tuple[requests.Response, str]:
    with requests.Session() as browser:
        # Twenty people, not one client twenty times: uvicorn takes the client address from
        # X-Forwarded-For sent by 127.0.0.1 (its default FORWARDED_ALLOW_IPS), as behind the
        # production proxy, so allauth's per-address limits count each person separately.
        browser.headers["X-Forwarded-For"] = client_ip
        browser.get(f"{url}/accounts/signup/", timeout=30).raise_for_status()
        token = browser.cookies["csrftoken"]
        start.wait(timeout=30)  # every form is loaded: now all submit at once
        response = browser.post(
            f"{url}/accounts/signup/",
            data={
                "csrfmiddlewaretoken": token,
                "email": email,
                "password1": STRONG_PASSWORD,
                "password2": STRONG_PASSWORD,
            },
            allow_redirects=False,
            timeout=60,
        )
        return response, browser.cookies.get("sessionid", "")


def test_twenty_concurrent_signups_each_get_their_own_workspace(
    live: str, django_db_blocker: Any
) -> None:
    emails = [f"{factories.unique('crowd')}@example.com" for _ in range(SIGNUPS)]
    results: dict[str, tuple[requests.Response, str]] = {}
    start = threading.Barrier(SIGNUPS + 1)

    def run(email: str, client_ip: str) -> None:
        results[email] = sign_up(live, email, client_ip, start)

    threads = [
        threading.Thread(target=run, args=(email, f"198.51.100.{i + 1}"))
        for i, email in enumerate(emails)
    ]
    for thread in threads:
        thread.start()
    start.wait(timeout=30)
    started = time.perf_counter()
    for thread in threads:
        thread.join(120)
    elapsed = time.perf_counter() - started
    print(f"\n{SIGNUPS} concurrent signups over HTTP: {elapsed:.2f} s wall")

    with django_db_blocker.unblock():
        try:
            statuses = {
                e: (r.status_code, r.headers.get("Location")) for e, (r, _) in results.items()
            }
            assert set(statuses.values()) == {(302, "/accounts/confirm-email/")}, statuses
            users = list(User.objects.filter(email__in=emails))
            assert len(users) == SIGNUPS
            memberships = list(Membership.objects.filter(user__in=users).select_related("tenant"))
            # Each user owns exactly one workspace, and no workspace has anyone else.
            assert sorted(m.user_id for m in memberships) == sorted(u.pk for u in users)
            assert {m.role for m in memberships} == {"owner"}
            tenants = [m.tenant for m in memberships]
            assert len({t.pk for t in tenants}) == SIGNUPS
            assert Membership.objects.filter(tenant__in=tenants).count() == SIGNUPS
            schemas = {t.schema_name for t in tenants}
            assert len(schemas) == SIGNUPS
            assert all(schema_exists(schema) for schema in schemas)
            domains = Domain.objects.filter(tenant__in=tenants)
            assert len({d.domain for d in domains}) == SIGNUPS == domains.count()
            budgets = Budget.objects.filter(tenant__in=tenants, scope="tenant")
            assert len({b.tenant_id for b in budgets}) == SIGNUPS == budgets.count()
            assert sorted(m.to[0] for m in mail.outbox) == sorted(emails)
        finally:
            for tenant in Tenant.objects.filter(memberships__user__email__in=emails):
                tenant.delete(force_drop=True)
            User.objects.filter(email__in=emails).delete()
            Session.objects.filter(session_key__in=[s for _, s in results.values() if s]).delete()
