"""The pages a newcomer opens first render styled, with every asset served by the app
itself: the landing page (desktop and phone), the admin after signing in, and the API
docs (Swagger UI and Redoc). Screenshots go to the test's temporary folder."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import STAFF_PASSWORD, Site
from tests.browser.pages import fits_the_screen

pytestmark = pytest.mark.browser

SITE_ACCENT = "rgb(47, 111, 237)"  # --accent in static/css/site.css
ADMIN_HEADER = "rgb(65, 118, 144)"  # the admin's --header-bg (--secondary, #417690)


def style(page: Any, selector: str, prop: str) -> str:
    return page.eval_on_selector(selector, f"el => getComputedStyle(el)[{prop!r}]")


def loaded_stylesheets(page: Any) -> list[str]:
    """Paths of the stylesheets the page loaded and parsed (at least one rule). A sheet
    that failed to load throws on `cssRules`: it is left out."""
    return page.evaluate(
        """() => [...document.styleSheets].filter(sheet => {
            try { return sheet.href && sheet.cssRules.length > 0; } catch { return false; }
        }).map(sheet => new URL(sheet.href).pathname)"""
    )


def test_the_landing_page_is_styled_on_a_desktop_and_a_phone(site: Site, open_page: Any) -> None:
    page, watched = open_page(1280, 800)
    page.goto(site.url + "/", wait_until="load")
    assert "Browser Test Plan" in page.inner_text("#pricing")
    assert "/static/css/site.css" in loaded_stylesheets(page)
    assert style(page, ".brand", "color") == SITE_ACCENT
    assert style(page, "#pricing .card", "borderTopLeftRadius") == "10px"
    assert style(page, ".hero .btn.primary", "backgroundColor") == SITE_ACCENT
    assert any(url.endswith("/static/js/site.js") for url in watched.requests)
    page.screenshot(path=site.screenshots / "landing-desktop.png", full_page=True)
    watched.assert_clean()

    phone, watched = open_page(390, 844)
    phone.goto(site.url + "/", wait_until="load")
    assert style(phone, ".brand", "color") == SITE_ACCENT
    # Nothing wider than the screen: no sideways scrolling on a phone.
    assert phone.evaluate("() => document.documentElement.scrollWidth") <= 390
    phone.screenshot(path=site.screenshots / "landing-phone.png", full_page=True)
    watched.assert_clean()


SIZES = pytest.mark.parametrize(
    ("width", "height"), [(1280, 800), (390, 844)], ids=["desktop", "phone"]
)


@SIZES
def test_the_sign_in_page_uses_the_site_layout(
    site: Site, open_page: Any, width: int, height: int
) -> None:
    page, watched = open_page(width, height)
    page.goto(site.url + "/accounts/login/", wait_until="load")
    assert "/static/css/site.css" in loaded_stylesheets(page)
    assert style(page, "button[type=submit]", "backgroundColor") == SITE_ACCENT
    assert fits_the_screen(page, width)
    page.screenshot(path=site.screenshots / f"sign-in-{width}.png", full_page=True)
    watched.assert_clean()


@SIZES
def test_the_admin_is_styled_after_a_staff_user_signs_in(
    site: Site, open_page: Any, width: int, height: int
) -> None:
    page, watched = open_page(width, height)
    page.goto(site.url + "/admin/", wait_until="load")
    assert "/admin/login/" in page.url
    page.fill("#id_username", site.staff_email)
    page.fill("#id_password", STAFF_PASSWORD)
    with page.expect_navigation(wait_until="load"):
        page.click("input[type=submit]")
    assert page.url == site.url + "/admin/"
    assert page.is_visible("#content-main .module")
    assert "/static/admin/css/base.css" in loaded_stylesheets(page)
    assert style(page, "#header", "backgroundColor") == ADMIN_HEADER
    assert fits_the_screen(page, width)
    page.screenshot(path=site.screenshots / f"admin-{width}.png", full_page=True)
    watched.assert_clean()
    assert any(url.endswith("/static/admin/js/theme.js") for url in watched.requests)


@SIZES
def test_swagger_ui_renders_the_operations_from_local_assets(
    site: Site, open_page: Any, width: int, height: int
) -> None:
    page, watched = open_page(width, height)
    page.goto(site.url + "/api/docs/", wait_until="load")
    page.wait_for_selector(".opblock", state="visible")
    assert "CloudFreedom API" in page.inner_text(".info .title")
    assert page.locator(".opblock").count() >= 5
    assert any("/static/drf_spectacular_sidecar/swagger-ui-dist/" in u for u in watched.requests)
    page.wait_for_load_state("networkidle")
    page.screenshot(path=site.screenshots / f"swagger-{width}.png")
    watched.assert_clean()


def test_redoc_renders_from_local_assets(site: Site, open_page: Any) -> None:
    page, watched = open_page()
    page.goto(site.url + "/api/redoc/", wait_until="load")
    page.wait_for_selector(".api-content h1", state="visible")
    assert "CloudFreedom API" in page.inner_text(".api-content h1")
    assert any("/static/drf_spectacular_sidecar/redoc/" in u for u in watched.requests)
    page.wait_for_load_state("networkidle")
    page.screenshot(path=site.screenshots / "redoc.png")
    watched.assert_clean()
    # Redoc's sidebar credit asks cdn.redoc.ly for a logo; the page's policy stops it.
    assert all(url.startswith("https://cdn.redoc.ly/") for url in watched.blocked_by_policy)
