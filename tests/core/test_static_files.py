"""The app serves its own static files (WhiteNoise), with no CDN and no prior collectstatic
in tests; the production build collects hashed, compressed files, compressed once."""

from __future__ import annotations

import os
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from django.test import Client, override_settings

from cloudfreedom.settings import base
from tests.support import factories

ROOT = Path(__file__).resolve().parents[2]
PUBLIC_HOST = "localhost"
# Every page a visitor can open without an account, plus the admin's login page.
PUBLIC_PAGES = [
    "/",
    "/accounts/login/",
    "/accounts/signup/",
    "/accounts/password/reset/",
    "/admin/login/",
    "/api/docs/",
    "/api/redoc/",
]


class Assets(HTMLParser):
    """The stylesheets and scripts a page loads, and every other URL its <link>s name."""

    def __init__(self) -> None:
        super().__init__()
        self.stylesheets: list[str] = []
        self.scripts: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "link" and found.get("href"):
            self.links.append(str(found["href"]))
            if found.get("rel") == "stylesheet":
                self.stylesheets.append(str(found["href"]))
        elif tag == "script" and found.get("src"):
            self.scripts.append(str(found["src"]))


def assets_of(html: bytes) -> Assets:
    parser = Assets()
    parser.feed(html.decode())
    return parser


def body_of(response: Any) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


# Redoc's script styles its page itself.
UNSTYLED_PAGES = {"/api/redoc/"}


def check_page(client: Client, path: str, host: str = PUBLIC_HOST) -> Assets:
    page = client.get(path, HTTP_HOST=host)
    assert page.status_code == 200, path
    assets = assets_of(page.content)
    assert assets.stylesheets or path in UNSTYLED_PAGES, f"{path} links no stylesheet"
    for url in assets.stylesheets + assets.scripts:
        assert url.startswith("/static/"), f"{path} loads {url} from elsewhere"
        asset = client.get(url, HTTP_HOST=host)
        assert asset.status_code == 200, f"{path}: {url} answered {asset.status_code}"
        assert body_of(asset), url
    return assets


def test_it_serves_every_stylesheet_and_script_each_page_links(db: Any) -> None:
    client = Client()
    for path in PUBLIC_PAGES:
        check_page(client, path)
    docs = check_page(client, "/api/docs/")
    assert any("swagger-ui-bundle" in url for url in docs.scripts)
    redoc = check_page(client, "/api/redoc/")
    assert any("redoc.standalone" in url for url in redoc.scripts)


def test_a_tenant_host_page_and_the_site_stylesheet_are_served_there(db: Any) -> None:
    tenant = factories.tenant("Styled Workspace", product=factories.product())
    assets = check_page(Client(), "/", host=tenant.get_primary_domain().domain)
    assert assets.stylesheets == ["/static/css/site.css"]


def test_no_page_names_a_cdn_or_a_font_service(db: Any) -> None:
    client = Client()
    for path in PUBLIC_PAGES:
        page = client.get(path, HTTP_HOST=PUBLIC_HOST)
        assets = assets_of(page.content)
        for url in assets.links + assets.scripts:
            assert url.startswith("/") and not url.startswith("//"), f"{path} names {url}"
        for marker in (b"cdn.jsdelivr.net", b"fonts.googleapis.com", b"fonts.gstatic.com"):
            assert marker not in page.content, f"{path} names {marker.decode()}"


def collect_for_production(static_root: Path) -> subprocess.CompletedProcess[str]:
    """The Dockerfile's build step: production settings, dummy secrets, no database."""
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DJANGO_SETTINGS_MODULE": "cloudfreedom.settings.production",
        "DJANGO_SECRET_KEY": "build",
        "API_KEY_HMAC_SECRET": "build",
        "CREDENTIALS_ENCRYPTION_KEY": "build",
        "DJANGO_STATIC_ROOT": str(static_root),
        "DATABASE_URL": "postgres://nobody@127.0.0.1:1/none",
    }
    return subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )


def test_the_production_build_serves_hashed_compressed_files_and_compresses_once(
    db: Any, tmp_path: Path
) -> None:
    assert "manage.py collectstatic" in (ROOT / "Dockerfile").read_text()
    static_root = tmp_path / "static"
    collect_for_production(static_root)
    compressed = {p: p.stat().st_ino for p in static_root.rglob("*") if p.suffix in {".br", ".gz"}}
    assert compressed

    production = {
        "DEBUG": False,
        "STATIC_ROOT": static_root,
        "STORAGES": base.STORAGES,
        "WHITENOISE_USE_FINDERS": False,
        "WHITENOISE_AUTOREFRESH": False,
    }
    with override_settings(**production):
        client = Client()
        for path in ("/", "/admin/login/", "/api/docs/"):
            for url in assets_of(client.get(path, HTTP_HOST=PUBLIC_HOST).content).stylesheets:
                name = url.removeprefix("/static/")
                assert name not in {"css/site.css", "admin/css/base.css"}, "not hashed"
                asset = client.get(url, HTTP_HOST=PUBLIC_HOST, HTTP_ACCEPT_ENCODING="br, gzip")
                assert asset.status_code == 200, url
                assert asset["Content-Encoding"] == "br", url
                assert "immutable" in asset["Cache-Control"], url
        # The admin builds some image URLs without the hash at run time: still served.
        plain = client.get("/static/admin/img/icon-calendar.svg", HTTP_HOST=PUBLIC_HOST)
        assert plain.status_code == 200

    # `make run` collects on every start: the second run compresses nothing again.
    collect_for_production(static_root)
    again = {p: p.stat().st_ino for p in static_root.rglob("*") if p.suffix in {".br", ".gz"}}
    assert again == compressed
