"""What the browser tests share: screenshots, the phone-width check, waiting for the
dashboard to count a request, and database work off Playwright's event loop."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from tests.browser.conftest import Site

# Every screenshot is also copied here, to look at after a run.
SHOTS = Path("/tmp/shots")


def shoot(page: Any, site: Site, name: str) -> None:
    """A full-page screenshot `name` (".png" added when missing) in the run's folder and
    in /tmp/shots/."""
    filename = name if name.endswith(".png") else f"{name}.png"
    path = site.screenshots / filename
    page.screenshot(path=path, full_page=True)
    SHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(path, SHOTS / filename)


def fits_the_screen(page: Any, width: int) -> bool:
    """No sideways scroll at `width`."""
    return page.evaluate("() => document.documentElement.scrollWidth") <= width


def dashboard_counts(page: Any, site: Site, requests: int, timeout: float = 5.0) -> None:
    """Reload the dashboard until it counts `requests` (a plain answer's usage record is
    written before the answer, a stream's just after: no event to await across processes)."""
    deadline = time.monotonic() + timeout
    while True:
        page.goto(site.url + "/app/", wait_until="load")
        if page.inner_text("#usage-requests") == str(requests):
            return
        assert time.monotonic() < deadline, page.inner_text("#usage-requests")
        page.wait_for_timeout(100)


def off_loop(fn: Callable[..., Any], *args: Any) -> Any:
    """Run `fn` in another thread: Playwright's sync API keeps an event loop running in this
    one, where Django refuses database calls."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(fn, *args).result()
