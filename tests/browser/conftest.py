"""Headless Chromium against the real ASGI app (uvicorn on 127.0.0.1, a free port, the test
database). Playwright drives the machine's Chromium; it never downloads a browser.

Every page is opened in a fresh context whose requests are watched: a request for any
other host is aborted and recorded (the pages must work offline), and every response
of 400 or more, failed request and uncaught script error is recorded too.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    Request,
    Response,
    Route,
    sync_playwright,
)

from tests.support.live import LiveGateway

# The flags Chromium needs as root in a container, and none of its own network traffic.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
STAFF_PASSWORD = "browser-test-" + uuid.uuid4().hex


def chromium_path() -> str:
    found = (
        os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    )
    if not found:
        pytest.fail(
            "browser tests need Chromium: `apt-get install -y chromium` (.ci/run does), or set "
            "CHROMIUM to its path; deselect them with -m 'not browser'",
            pytrace=False,
        )
    return found


@dataclass
class Site:
    url: str
    staff_email: str
    screenshots: Path


@dataclass
class Watched:
    """What one page asked for and got."""

    site: str
    requests: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)
    # Requests for other hosts that the page's Content-Security-Policy stopped inside the
    # browser: they never reached the network.
    blocked_by_policy: list[str] = field(default_factory=list)
    bad_responses: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    script_errors: list[str] = field(default_factory=list)

    def assert_clean(self) -> None:
        assert not self.outside, f"requests left {self.site}: {self.outside}"
        assert not self.bad_responses, f"failed assets: {self.bad_responses}"
        assert not self.failed, f"requests that failed: {self.failed}"
        assert not self.script_errors, f"script errors: {self.script_errors}"


@pytest.fixture(scope="module")
def site(
    django_db_setup: Any, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Site]:
    from django.contrib.sessions.models import Session

    from apps.accounts.models import User
    from tests.support import factories

    with django_db_blocker.unblock():
        staff = User.objects.create_user(
            f"{factories.unique('staff')}@example.com",
            STAFF_PASSWORD,
            is_staff=True,
            is_superuser=True,
        )
        product = factories.product(
            name="Browser Test Plan", description="Shown on the landing page."
        )
        server = LiveGateway()
        try:
            server.start()
            yield Site(server.url, staff.email, tmp_path_factory.mktemp("screenshots"))
        finally:
            server.stop()
            product.delete()
            for session in Session.objects.all():
                if session.get_decoded().get("_auth_user_id") == str(staff.pk):
                    session.delete()
            staff.delete()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def watch(
    context: BrowserContext, page: Page, site: Site, also_allow: tuple[str, ...] = ()
) -> Watched:
    """Record what `page` does; requests to any origin but the site's (and `also_allow`,
    e.g. a fake Stripe's Checkout page) are aborted."""
    watched = Watched(site.url)
    allowed = tuple(origin.rstrip("/") + "/" for origin in (site.url, *also_allow))

    def local(url: str) -> bool:
        return url.startswith((*allowed, "data:", "blob:"))

    def route(route: Route) -> None:
        if local(route.request.url):
            route.continue_()
        else:
            watched.outside.append(route.request.url)
            route.abort()

    def response(response: Response) -> None:
        if response.status >= 400:
            watched.bad_responses.append(f"{response.status} {response.url}")

    def failed(request: Request) -> None:
        if request.url in watched.outside:
            return
        if request.failure == "csp" and not local(request.url):
            watched.blocked_by_policy.append(request.url)
        else:
            watched.failed.append(f"{request.url}: {request.failure}")

    context.route("**/*", route)
    page.on("request", lambda request: watched.requests.append(request.url))
    page.on("response", response)
    page.on("requestfailed", failed)
    page.on("pageerror", lambda error: watched.script_errors.append(str(error)))
    return watched


@pytest.fixture
def open_page(browser: Browser, site: Site) -> Iterator[Any]:
    """open_page(width, height, also_allow=()) → (page, watched), in a fresh light-mode
    context."""
    contexts: list[BrowserContext] = []

    def opener(
        width: int = 1280, height: int = 800, also_allow: tuple[str, ...] = ()
    ) -> tuple[Page, Watched]:
        context = browser.new_context(
            viewport={"width": width, "height": height},
            color_scheme="light",
            service_workers="block",
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        return page, watch(context, page, site, also_allow)

    yield opener
    for context in contexts:
        context.close()
