"""Signing up in headless Chromium: the visitor fills the form, is asked to check the inbox,
opens the link from the mail (the live server runs in this process, so its mail is in
django.core.mail.outbox), confirms, and lands on the dashboard, signed in. A weak password
is shown as an error in the form. Desktop and phone (390 by 844); screenshots go to the
fixture's folder and /tmp/shots/."""

from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.db import connection

from tests.accounts.flows import clear_rate_limits
from tests.browser.conftest import Site
from tests.browser.pages import fits_the_screen, shoot

pytestmark = pytest.mark.browser

PASSWORD = "Signup-" + uuid.uuid4().hex[:12]
SIZES = pytest.mark.parametrize(
    ("width", "height"), [(1280, 800), (390, 844)], ids=["desktop", "phone"]
)


@pytest.fixture(scope="module")
def emails(site: Site, django_db_blocker: Any) -> Iterator[list[str]]:
    """Addresses the tests sign up with; their users, workspaces and sessions are removed
    at the end of the module (after the browser closes: Playwright's sync API keeps an
    event loop running in this thread, where Django refuses database calls)."""
    from django.contrib.sessions.models import Session

    from apps.accounts.models import User
    from apps.tenants.models import Tenant

    made: list[str] = []
    clear_rate_limits()
    yield made
    with django_db_blocker.unblock():
        users = list(User.objects.filter(email__in=made))
        for tenant in Tenant.objects.filter(memberships__user__in=users).distinct():
            tenant.delete(force_drop=True)
        ids = {str(user.pk) for user in users}
        for session in Session.objects.all():
            if session.get_decoded().get("_auth_user_id") in ids:
                session.delete()
        for user in users:
            user.delete()


def fill_signup(page: Any, email: str, password: str, workspace: str = "") -> None:
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_label("Password (again)").fill(password)
    page.get_by_label("Workspace name").fill(workspace)


@SIZES
def test_a_visitor_signs_up_confirms_and_lands_on_the_dashboard(
    site: Site, open_page: Any, emails: list[str], width: int, height: int
) -> None:
    email = f"browser-{uuid.uuid4().hex[:8]}@example.com"
    emails.append(email)
    page, watched = open_page(width, height)
    page.goto(site.url + "/accounts/signup/", wait_until="load")
    assert "/static/css/account.css" in [
        urlsplit(href).path
        for href in page.eval_on_selector_all("link[rel=stylesheet]", "els => els.map(e => e.href)")
    ]
    assert fits_the_screen(page, width)
    fill_signup(page, email, PASSWORD, workspace=f"Browser {uuid.uuid4().hex[:6]}")
    shoot(page, site, f"signup-{width}")
    with page.expect_navigation(wait_until="load"):
        page.get_by_role("button", name="Create account").click()

    assert urlsplit(page.url).path == "/accounts/confirm-email/"
    assert "Check your inbox" in page.inner_text("main")
    assert fits_the_screen(page, width)
    shoot(page, site, f"signup-check-inbox-{width}")
    [message] = [m for m in mail.outbox if m.to == [email]]
    [link] = re.findall(r"https?://\S+/accounts/confirm-email/\S+", str(message.body))
    assert link.startswith(site.url + "/")

    page.goto(link, wait_until="load")
    assert email in page.inner_text("main")
    assert fits_the_screen(page, width)
    shoot(page, site, f"signup-confirm-{width}")
    watched.assert_clean()
    with page.expect_navigation(wait_until="load"):
        page.get_by_role("button", name="Confirm").click()

    # The dashboard is the portal's; what matters here is arriving there, signed in.
    assert urlsplit(page.url).path == "/app/"
    assert email in page.inner_text("header")
    shoot(page, site, f"signup-dashboard-{width}")


@SIZES
def test_a_weak_password_is_shown_in_the_form(
    site: Site, open_page: Any, emails: list[str], width: int, height: int
) -> None:
    email = f"weak-{uuid.uuid4().hex[:8]}@example.com"
    emails.append(email)
    page, watched = open_page(width, height)
    page.goto(site.url + "/accounts/signup/", wait_until="load")
    fill_signup(page, email, "12345678", workspace="admin")
    with page.expect_navigation(wait_until="load"):
        page.get_by_role("button", name="Create account").click()

    assert urlsplit(page.url).path == "/accounts/signup/"
    password_errors = page.inner_text("#field-password1 .errorlist")
    assert "This password is too common." in password_errors
    assert "This password is entirely numeric." in password_errors
    assert "reserved" in page.inner_text("#field-workspace .errorlist")
    assert page.get_attribute("#id_password1", "aria-invalid") == "true"
    assert page.input_value("#id_email") == email  # what was typed stays
    assert fits_the_screen(page, width)
    shoot(page, site, f"signup-errors-{width}")
    watched.assert_clean()
    assert mail.outbox == []


@pytest.fixture(scope="module")
def member(emails: list[str], django_db_blocker: Any) -> str:
    """A user who signed up and confirmed earlier, with a workspace (committed)."""
    from allauth.account.models import EmailAddress

    from apps.accounts.models import User
    from apps.tenants.services import create_workspace

    email = f"member-{uuid.uuid4().hex[:8]}@example.com"
    emails.append(email)

    failures: list[BaseException] = []

    def make() -> None:
        try:
            with django_db_blocker.unblock():
                user = User.objects.create_user(email, PASSWORD)
                EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
                create_workspace(owner=user, name=f"member-{uuid.uuid4().hex[:6]}")
                connection.close()
        except BaseException as exc:
            failures.append(exc)

    # In a thread of its own: this module's browser may already be open, and Playwright's
    # event loop in this thread makes Django refuse database calls here.
    maker = threading.Thread(target=make)
    maker.start()
    maker.join(30)
    if failures:
        raise failures[0]
    return email


@SIZES
def test_the_account_pages_fit_the_screen_and_lead_back_to_the_dashboard(
    site: Site, member: str, open_page: Any, width: int, height: int
) -> None:
    page, watched = open_page(width, height)
    page.goto(site.url + "/accounts/password/reset/", wait_until="load")
    assert fits_the_screen(page, width)
    shoot(page, site, f"account-reset-{width}")
    page.goto(site.url + "/accounts/login/", wait_until="load")
    assert page.get_attribute("a[href='/accounts/signup/']", "href")
    assert page.get_attribute("a[href='/accounts/password/reset/']", "href")
    assert fits_the_screen(page, width)
    page.get_by_label("Email").fill(member)
    page.get_by_label("Password").fill(PASSWORD)
    shoot(page, site, f"account-login-{width}")
    with page.expect_navigation(wait_until="load"):
        page.get_by_role("button", name="Sign in").click()
    assert urlsplit(page.url).path == "/app/"

    for path, title, name in [
        ("/accounts/email/", "Email address", "email"),
        ("/accounts/password/change/", "Change password", "password"),
        ("/accounts/logout/", "Sign out", "logout"),
    ]:
        page.goto(site.url + path, wait_until="load")
        assert page.inner_text("main h1") == title
        back = page.get_by_role("navigation", name="Account").get_by_role("link", name="Dashboard")
        assert back.get_attribute("href") == "/app/"
        assert fits_the_screen(page, width)
        shoot(page, site, f"account-{name}-{width}")
    watched.assert_clean()

    with page.expect_navigation(wait_until="load"):
        page.locator("main").get_by_role("button", name="Sign out").click()
    assert "Sign in" in page.inner_text("header")
