"""The public pages in headless Chromium, on a desktop and a phone (390 by 844): they render
from local assets only, without script errors or sideways scrolling, and site.js's tabs,
copy buttons and live table filter work. Screenshots go to the fixture's folder and to
/tmp/shots/ for a person to look at."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from tests.browser.conftest import Site
from tests.browser.pages import fits_the_screen, shoot

pytestmark = pytest.mark.browser

SIZES = pytest.mark.parametrize(
    ("width", "height"), [(1280, 800), (390, 844)], ids=["desktop", "phone"]
)


@pytest.fixture(scope="module")
def catalog(site: Site, django_db_blocker: Any) -> Iterator[None]:
    """Committed models and plans (the live server reads them), removed afterwards."""
    from apps.catalog.models import ModelRoute, Product, ProviderKind
    from tests.support import factories

    with django_db_blocker.unblock():
        openai = factories.provider(ProviderKind.OPENAI, "https://api.openai.example")
        mock = factories.provider(ProviderKind.MOCK)
        routes = [
            factories.route(
                "browser-gpt-4o-mini",
                targets=[(openai, "gpt-4o-mini"), (mock, "echo")],
                price=("0.15", "0.60", "0.075", "0.15"),
                description="Small, fast chat model.",
            ),
            factories.route(
                "browser-long-context-model-with-a-long-name",
                targets=[(openai, "gpt-4.1")],
                price=("2.00", "8.00", "0.50", "2.00"),
                context_window=1_047_576,
                max_output_tokens=32_768,
            ),
            factories.route(
                "browser-embed",
                targets=[(mock, "embed")],
                price=("0.02", "0", "0.01", "0.02"),
                mode=ModelRoute.Mode.EMBEDDING,
                context_window=8_192,
            ),
        ]
        free = factories.product(
            name="Browser Free",
            slug="browser-free",
            monthly_price=Decimal("0"),
            monthly_budget=Decimal("1"),
            signup_default=True,
            rpm_limit=20,
            tpm_limit=20_000,
            sort_order=0,
        )
        free.allowed_models.set(routes[:1] + routes[2:])
        pro = factories.product(
            name="Browser Pro",
            slug="browser-pro",
            monthly_price=Decimal("99"),
            monthly_budget=Decimal("75"),
            markup_percent=Decimal("20"),
            overage_cap=Decimal("50"),
            rpm_limit=600,
            tpm_limit=1_000_000,
            sort_order=1,
        )
        pro.allowed_models.set(routes)
    try:
        yield
    finally:
        with django_db_blocker.unblock():
            Product.objects.filter(pk__in=[free.pk, pro.pk]).delete()
            ModelRoute.objects.filter(pk__in=[r.pk for r in routes]).delete()
            openai.delete()
            mock.delete()


def open_at(open_page: Any, site: Site, path: str, width: int, height: int) -> tuple[Any, Any]:
    page, watched = open_page(width, height)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=site.url)
    page.goto(site.url + path, wait_until="load")
    return page, watched


@SIZES
def test_the_landing_page_shows_samples_in_tabs(
    site: Site, catalog: None, open_page: Any, width: int, height: int
) -> None:
    page, watched = open_at(open_page, site, "/", width, height)
    assert "browser-gpt-4o-mini" in page.inner_text("#models")
    assert "Browser Free" in page.inner_text("#pricing")
    curl, python = page.locator("#hero-curl"), page.locator("#hero-openai")
    assert curl.is_visible() and not python.is_visible()
    assert f"curl {site.url}/v1/chat/completions" in curl.inner_text()
    page.get_by_role("tab", name="OpenAI SDK").click()
    assert python.is_visible() and not curl.is_visible()
    assert f'base_url="{site.url}/v1"' in python.inner_text()
    # Arrow keys move between tabs, as a tab list should.
    page.keyboard.press("ArrowRight")
    assert page.locator("#hero-anthropic").is_visible()
    assert f'base_url="{site.url}",' in page.inner_text("#hero-anthropic")
    page.click("[data-copy='#hero-anthropic']")
    page.wait_for_selector("[data-copy='#hero-anthropic'].copied")
    assert "from anthropic import Anthropic" in page.evaluate("navigator.clipboard.readText()")
    assert fits_the_screen(page, width)
    shoot(page, site, f"landing-{width}.png")
    watched.assert_clean()


@SIZES
def test_the_models_page_filters_as_you_type_and_copies_ids(
    site: Site, catalog: None, open_page: Any, width: int, height: int
) -> None:
    page, watched = open_at(open_page, site, "/models/?plan=browser-pro", width, height)
    rows = page.locator("#model-table tbody tr")
    names = ["browser-gpt-4o-mini", "browser-long-context-model-with-a-long-name"]
    assert all(page.locator("#model-table", has_text=n).count() for n in names)
    gpt_row = rows.filter(has_text="browser-gpt-4o-mini")
    assert "$0.18" in gpt_row.inner_text() and "$0.72" in gpt_row.inner_text()  # +20%
    assert fits_the_screen(page, width)  # the table scrolls inside its frame
    shoot(page, site, f"models-{width}.png")

    page.fill("#model-search", "EMBED")
    visible = [r for r in rows.all() if r.is_visible()]
    assert [r.locator("code").first.inner_text() for r in visible] == ["browser-embed"]
    page.fill("#model-search", "nothing-like-this")
    assert page.locator("[data-filter-empty='#model-table']").is_visible()
    page.fill("#model-search", "")
    assert rows.filter(has_text="browser-gpt-4o-mini").is_visible()

    button = gpt_row.get_by_role("button", name="Copy browser-gpt-4o-mini")
    button.click()
    page.wait_for_function("b => b.textContent === 'Copied'", arg=button.element_handle())
    assert page.evaluate("navigator.clipboard.readText()") == "browser-gpt-4o-mini"
    watched.assert_clean()


def test_the_models_search_works_without_script(site: Site, catalog: None, browser: Any) -> None:
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(site.url + "/models/", wait_until="load")
        page.fill("#model-search", "long-context")
        with page.expect_navigation():
            page.click("button[type=submit]")
        assert "q=long-context" in page.url
        assert page.locator("#model-table tbody tr").count() == 1
    finally:
        context.close()


@SIZES
def test_the_pricing_page_shows_the_plans(
    site: Site, catalog: None, open_page: Any, width: int, height: int
) -> None:
    page, watched = open_at(open_page, site, "/pricing/", width, height)
    free = page.locator("article.plan", has_text="Browser Free")
    pro = page.locator("article.plan", has_text="Browser Pro")
    assert "every new workspace starts here" in free.inner_text()
    assert "Hard stop at the budget" in free.inner_text()
    assert "up to $50 beyond the budget" in pro.inner_text()
    page.get_by_text("What happens when I reach the limit?").click()
    assert page.get_by_text("budget_exceeded").first.is_visible()
    assert fits_the_screen(page, width)
    shoot(page, site, f"pricing-{width}.png")
    watched.assert_clean()


@SIZES
def test_the_docs_page_has_contents_and_copyable_code(
    site: Site, catalog: None, open_page: Any, width: int, height: int
) -> None:
    page, watched = open_at(open_page, site, "/docs/", width, height)
    page.click(".toc a[href='#errors']")
    assert page.url.endswith("#errors")
    assert page.locator("#errors").is_visible()
    page.click("[data-copy='#routes-stream']")
    page.wait_for_selector("[data-copy='#routes-stream'].copied")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert (
        copied.startswith(f"curl -N {site.url}/v1/chat/completions") and '"stream": true' in copied
    )
    assert fits_the_screen(page, width)
    shoot(page, site, f"docs-{width}.png")
    watched.assert_clean()


def test_the_keyboard_reaches_the_skip_link_first(site: Site, open_page: Any) -> None:
    page, watched = open_page(390, 844)
    page.goto(site.url + "/pricing/", wait_until="load")
    page.keyboard.press("Tab")
    focused = page.evaluate("() => document.activeElement.className")
    assert focused == "skip-link"
    assert page.locator(".skip-link").bounding_box()["y"] >= 0  # shown when focused
    outline = page.eval_on_selector(".skip-link", "el => getComputedStyle(el).outlineStyle")
    assert outline == "solid"
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "main"
    watched.assert_clean()
