"""A visitor becomes a paying customer alone, in headless Chromium: the landing page, sign
up, the verification mail, the dashboard, the first key, a /v1 call with it (mock
provider) counted on the dashboard, then a plan bought through the fake Stripe Checkout,
whose signed webhooks set the plan and grant its budget.

The time from opening the landing page to the first successful API call is printed (run
with -s to see it) and written to the screenshots folder as journey-timing.txt."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from django.core import mail

from tests.accounts.flows import clear_rate_limits
from tests.browser.conftest import Site
from tests.browser.pages import SHOTS, dashboard_counts, off_loop, shoot
from tests.fakes.stripe_server import FakeStripe
from tests.support.stripe import live_webhooks, stripe_server  # noqa: F401

pytestmark = pytest.mark.browser

PASSWORD = "Journey-" + uuid.uuid4().hex[:12]


@dataclass
class Catalog:
    model: str
    free: Any
    paid: Any


@pytest.fixture(scope="module")
def catalog(site: Site, django_db_blocker: Any) -> Iterator[Catalog]:
    """A priced mock model, the free signup plan and a paid plan (committed: the live server
    reads them), removed afterwards with every workspace signed up here."""
    from apps.catalog.models import ProviderKind
    from tests.support import factories
    from tests.support.live import reset_caches

    with django_db_blocker.unblock():
        mock = factories.provider(ProviderKind.MOCK)
        route = factories.route(factories.unique("journey-mock"), targets=[(mock, "mock-fast")])
        free = factories.product(
            name="Journey Free",
            monthly_price=Decimal("0"),
            monthly_budget=Decimal("1.00"),
            signup_default=True,
            sort_order=0,
        )
        paid = factories.product(
            name="Journey Pro",
            monthly_price=Decimal("29.00"),
            monthly_budget=Decimal("20.00"),
            sort_order=1,
        )
        for plan in (free, paid):
            plan.allowed_models.add(route)
        reset_caches()
    clear_rate_limits()
    try:
        yield Catalog(route.public_name, free, paid)
    finally:
        with django_db_blocker.unblock():
            _remove_journey_data(free, paid)
            route.delete()
            mock.delete()


def _remove_journey_data(*plans: Any) -> None:
    from django.contrib.sessions.models import Session

    from apps.accounts.models import User
    from apps.keys.models import ApiKey
    from apps.tenants.models import Tenant

    users = list(User.objects.filter(email__startswith="journey-"))
    tenants = list(Tenant.objects.filter(memberships__user__in=users).distinct())
    ids = {str(user.pk) for user in users}
    for session in Session.objects.all():
        if session.get_decoded().get("_auth_user_id") in ids:
            session.delete()
    ApiKey.objects.filter(tenant__in=tenants).delete()
    for tenant in tenants:
        tenant.delete(force_drop=True)
    for user in users:
        user.delete()
    for plan in plans:
        plan.delete()


@pytest.fixture
def stripe_live(
    stripe_server: FakeStripe,  # noqa: F811
    site: Site,
    settings: Any,
    django_db_blocker: Any,
) -> Iterator[FakeStripe]:
    stripe_server.reset()
    webhooks = live_webhooks(stripe_server, site.url, settings, django_db_blocker)
    fake = off_loop(webhooks.__enter__)
    try:
        yield fake
    finally:
        off_loop(webhooks.__exit__, None, None, None)


def test_a_visitor_signs_up_calls_the_api_and_buys_a_plan(
    site: Site,
    open_page: Any,
    catalog: Catalog,
    stripe_live: FakeStripe,
    django_db_blocker: Any,
) -> None:
    from apps.billing.stripe_sync import push

    with django_db_blocker.unblock():
        off_loop(push, catalog.paid)  # what staff do from the admin before selling a plan
    email = f"journey-{uuid.uuid4().hex[:8]}@example.com"
    page, watched = open_page(1280, 800, also_allow=(stripe_live.url,))
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=site.url)

    started = time.monotonic()
    page.goto(site.url + "/", wait_until="load")
    shoot(page, site, "journey-1-landing")
    with page.expect_navigation(wait_until="load"):
        page.get_by_role("link", name="Sign up free").first.click()
    assert urlsplit(page.url).path == "/accounts/signup/"
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password (again)").fill(PASSWORD)
    page.get_by_label("Workspace name").fill(f"Journey {uuid.uuid4().hex[:6]}")
    with page.expect_navigation(wait_until="load"):
        page.get_by_role("button", name="Create account").click()
    assert "Check your inbox" in page.inner_text("main")

    [message] = [m for m in mail.outbox if m.to == [email]]
    [link] = re.findall(r"https?://\S+/accounts/confirm-email/\S+", str(message.body))
    page.goto(link, wait_until="load")
    with page.expect_navigation(wait_until="load"):
        page.get_by_role("button", name="Confirm").click()
    assert urlsplit(page.url).path == "/app/"
    # The free signup plan's budget, before anything was spent.
    assert "Journey Free" in page.inner_text("main")
    assert page.inner_text("#budget-remaining") == "$1.00"
    assert page.inner_text("#usage-requests") == "0"
    shoot(page, site, "journey-2-dashboard")

    page.fill("input[name=name]", "first key")
    with page.expect_navigation(wait_until="load"):
        page.click(".first-key button[type=submit]")
    secret = page.input_value("#new-key-secret")
    assert catalog.model in page.inner_text("#snippet-curl")
    page.click("button[data-copy='#snippet-curl']")
    page.wait_for_selector("button[data-copy='#snippet-curl'].copied")
    shoot(page, site, "journey-3-key")

    answer = httpx.post(
        site.url + "/v1/chat/completions",
        json={"model": catalog.model, "messages": [{"role": "user", "content": "Hello"}]},
        headers={"Authorization": f"Bearer {secret}"},
        timeout=30,
    )
    first_call = time.monotonic() - started
    assert answer.status_code == 200, answer.text
    assert answer.json()["choices"][0]["message"]["content"]
    timing = f"landing page to first successful API call: {first_call:.2f} s"
    print(f"\n[journey] {timing}")
    (site.screenshots / "journey-timing.txt").write_text(timing + "\n")
    SHOTS.mkdir(parents=True, exist_ok=True)
    (SHOTS / "journey-timing.txt").write_text(timing + "\n")

    dashboard_counts(page, site, 1)
    spent = Decimal(answer.headers["x-cloudfreedom-cost"])
    assert spent > 0
    shoot(page, site, "journey-4-counted")

    # Buy the paid plan: Checkout on the fake Stripe, its webhooks to this site.
    page.goto(site.url + "/app/billing/", wait_until="load")
    shoot(page, site, "journey-5-billing")
    with page.expect_navigation(wait_until="load"):
        page.click(f"form[action='/app/billing/subscribe/{catalog.paid.slug}/'] button")
    assert page.url.startswith(stripe_live.url + "/checkout/")
    assert "$29.00" in page.content()
    with page.expect_navigation(wait_until="load"):
        page.click("#pay")
    assert urlsplit(page.url).path == "/app/billing/done/"
    assert "Journey Pro" in page.inner_text("main")
    # The paid period starts now with the plan's budget; the free period is closed.
    assert page.inner_text("#budget-remaining") == "$20.00"
    shoot(page, site, "journey-6-paid")
    assert [status for _, _, status in stripe_live.deliveries] == [200] * len(
        stripe_live.deliveries
    )

    page.goto(site.url + "/app/", wait_until="load")
    assert "Journey Pro" in page.inner_text("main")
    watched.assert_clean()

    with django_db_blocker.unblock():
        product_id, grants, disagreements = off_loop(_money_of, email)
    assert product_id == catalog.paid.pk
    # The free plan's first period, the paid period opened at the invoice's start (nothing
    # granted by the reset itself: a subscriber's grant waits for its paid invoice), and
    # the invoice's grant.
    assert grants == [Decimal("1.00"), Decimal("0"), Decimal("20.00")]
    assert disagreements == []


def _money_of(email: str) -> tuple[int, list[Decimal], list[str]]:
    from apps.billing.ledger import audit_tenant
    from apps.billing.models import LedgerEntry
    from apps.tenants.models import Tenant

    tenant = Tenant.objects.get(memberships__user__email=email)
    grants = LedgerEntry.objects.filter(tenant_id=tenant.pk, kind="period_grant").order_by("id")
    return tenant.product_id, [e.amount for e in grants], audit_tenant(tenant)
