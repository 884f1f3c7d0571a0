"""The portal in headless Chromium: a verified customer signs in, finds the dashboard's
empty state, creates the first key (shown once, with working copy buttons and snippets),
calls /v1/chat/completions with it over HTTP (mock provider) and sees the request counted.
Desktop and phone (390 by 844); screenshots go to the fixture's folder and /tmp/shots/."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx
import pytest

from tests.browser.conftest import Site
from tests.browser.pages import dashboard_counts, fits_the_screen, shoot

pytestmark = pytest.mark.browser

PASSWORD = "portal-" + uuid.uuid4().hex


@dataclass
class Customer:
    email: str
    tenant: Any
    model: str


@pytest.fixture(scope="module")
def customer(site: Site, django_db_blocker: Any) -> Iterator[Customer]:
    """A verified user owning a workspace whose plan allows one priced mock model
    (committed: the live server reads it), removed afterwards."""
    from allauth.account.models import EmailAddress
    from django.contrib.sessions.models import Session

    from apps.catalog.models import ProviderKind
    from apps.keys.models import ApiKey
    from apps.tenants.models import Membership
    from tests.support import factories
    from tests.support.live import reset_caches

    with django_db_blocker.unblock():
        mock = factories.provider(ProviderKind.MOCK)
        route = factories.route(factories.unique("portal-mock"), targets=[(mock, "mock-fast")])
        product = factories.product(name="Portal Browser Plan", monthly_budget=Decimal("5.00"))
        product.allowed_models.add(route)
        user = factories.user(f"{factories.unique('portal')}@example.com")
        user.set_password(PASSWORD)
        user.save()
        EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
        tenant = factories.tenant("Portal Browser Co", product=product, owner=user)
        # A second workspace, joined later: the first stays the default; the switcher shows.
        other = factories.tenant("Second Workspace Ltd", product=product)
        Membership.objects.create(user=user, tenant=other, role=Membership.Role.MEMBER)
        reset_caches()
        try:
            yield Customer(user.email, tenant, route.public_name)
        finally:
            ApiKey.objects.filter(tenant__in=[tenant, other]).delete()
            tenant.delete(force_drop=True)
            other.delete(force_drop=True)
            for session in Session.objects.all():
                if session.get_decoded().get("_auth_user_id") == str(user.pk):
                    session.delete()
            user.delete()
            product.delete()
            route.delete()
            mock.delete()


def sign_in(page: Any, site: Site, email: str) -> None:
    page.goto(site.url + "/accounts/login/", wait_until="load")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation(wait_until="load"):
        page.click("form.form button[type=submit]")
    assert page.url == site.url + "/app/"


def test_the_first_key_is_created_shown_once_and_counted(
    site: Site, open_page: Any, customer: Customer
) -> None:
    page, watched = open_page(1280, 800)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=site.url)
    sign_in(page, site, customer.email)
    assert page.is_visible("text=Create your first API key")
    assert page.inner_text("#usage-requests") == "0"
    shoot(page, site, "portal-dashboard-empty-desktop")

    page.fill("input[name=name]", "my laptop")
    with page.expect_navigation(wait_until="load"):
        page.click(".first-key button[type=submit]")
    secret = page.input_value("#new-key-secret")
    assert secret.startswith("cfk_")
    assert page.locator("[data-copy]").count() == 3
    assert customer.model in page.inner_text("#snippet-curl")
    page.click("button[data-copy='#new-key-secret']")
    page.wait_for_selector("button[data-copy='#new-key-secret'].copied")
    assert page.evaluate("() => navigator.clipboard.readText()") == secret
    page.click("button[data-copy='#snippet-curl']")
    page.wait_for_selector("button[data-copy='#snippet-curl'].copied")
    assert f"Bearer {secret}" in page.evaluate("() => navigator.clipboard.readText()")
    shoot(page, site, "portal-key-created-desktop")

    response = httpx.post(
        site.url + "/v1/chat/completions",
        json={"model": customer.model, "messages": [{"role": "user", "content": "Hi"}]},
        headers={"Authorization": f"Bearer {secret}"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    dashboard_counts(page, site, 1)
    assert secret not in page.content()
    assert secret[:14] + "…" in page.inner_text("table.keys")  # the prefix: "cfk_" + 10
    assert not page.is_visible("text=Create your first API key")
    shoot(page, site, "portal-dashboard-desktop")
    page.goto(site.url + "/app/billing/", wait_until="load")
    assert page.is_visible("#ledger-title")
    shoot(page, site, "portal-billing-desktop")
    watched.assert_clean()


def test_the_portal_fits_a_phone(site: Site, open_page: Any, customer: Customer) -> None:
    page, watched = open_page(390, 844)
    sign_in(page, site, customer.email)
    assert fits_the_screen(page, 390)
    shoot(page, site, "portal-dashboard-phone")

    page.fill("input[name=name]", "phone")
    with page.expect_navigation(wait_until="load"):
        page.click("form.key-form button[type=submit]")
    assert page.input_value("#new-key-secret").startswith("cfk_")
    assert fits_the_screen(page, 390)  # long snippet lines scroll inside their block
    shoot(page, site, "portal-key-created-phone")

    # The switcher: to the second workspace (a member there: no billing link) and back.
    page.goto(site.url + "/app/", wait_until="load")
    page.select_option("#switch-tenant", label="Second Workspace Ltd")
    with page.expect_navigation(wait_until="load"):
        page.click(".portal-switch button[type=submit]")
    assert "Second Workspace Ltd" in page.inner_text(".portal-title h1")
    assert page.is_visible("text=Create your first API key")
    assert not page.is_visible(".portal-nav >> text=Billing")
    assert fits_the_screen(page, 390)
    shoot(page, site, "portal-switched-phone")
    # A member who opens billing anyway gets the refusal page, not an error.
    refused = page.goto(site.url + "/app/billing/", wait_until="load")
    assert refused is not None and refused.status == 403
    assert "owners and admins" in page.inner_text("main").lower()
    assert fits_the_screen(page, 390)
    shoot(page, site, "portal-forbidden-phone")
    watched.bad_responses.remove(f"403 {site.url}/app/billing/")  # expected, and checked
    page.goto(site.url + "/app/", wait_until="load")
    page.select_option("#switch-tenant", label="Portal Browser Co")
    with page.expect_navigation(wait_until="load"):
        page.click(".portal-switch button[type=submit]")
    assert "Portal Browser Co" in page.inner_text(".portal-title h1")

    for path, name in [
        ("/app/billing/", "billing-phone"),
        ("/app/billing/done/?session_id=cs_test", "billing-done-phone"),
        ("/app/workspaces/new/", "new-phone"),
    ]:
        page.goto(site.url + path, wait_until="load")
        assert fits_the_screen(page, 390), path
        shoot(page, site, f"portal-{name}")
    watched.assert_clean()


def test_the_portal_works_from_the_keyboard(site: Site, open_page: Any, customer: Customer) -> None:
    page, watched = open_page(1280, 800)
    sign_in(page, site, customer.email)
    page.focus("input[name=name]")
    page.keyboard.type("keyboard")
    page.keyboard.press("Tab")  # to the submit button
    with page.expect_navigation(wait_until="load"):
        page.keyboard.press("Enter")
    assert page.input_value("#new-key-secret").startswith("cfk_")
    watched.assert_clean()
