"""The app serves its own static files (WhiteNoise), with no CDN and no prior collectstatic
in tests; the production build collects hashed, compressed files, compressed once."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import warnings
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
    "/models/",
    "/pricing/",
    "/docs/",
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
    assets = check_page(Client(), "/accounts/login/", host=tenant.get_primary_domain().domain)
    assert assets.stylesheets[0] == "/static/css/site.css"


def test_no_page_names_a_cdn_or_a_font_service(db: Any) -> None:
    client = Client()
    for path in PUBLIC_PAGES:
        page = client.get(path, HTTP_HOST=PUBLIC_HOST)
        assets = assets_of(page.content)
        for url in assets.links + assets.scripts:
            assert url.startswith("/") and not url.startswith("//"), f"{path} names {url}"
        for marker in (b"cdn.jsdelivr.net", b"fonts.googleapis.com", b"fonts.gstatic.com"):
            assert marker not in page.content, f"{path} names {marker.decode()}"


async def asgi_request(path: str, *headers: tuple[bytes, bytes], method: str = "GET") -> Any:
    """Send one request through the real ASGI entry; return (status, headers, body)."""
    from cloudfreedom.asgi import application

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", PUBLIC_HOST.encode()), *headers],
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 8000),
    }
    requested = False
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await asyncio.Event().wait()  # the client stays connected
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await application(scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], dict(start["headers"]), body


def test_under_asgi_assets_stream_without_a_database_or_a_warning() -> None:
    """No `db` fixture: an asset must not touch the database (pytest-django would refuse)."""
    source = (ROOT / "static" / "css" / "site.css").read_bytes()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        status, headers, body = asyncio.run(asgi_request("/static/css/site.css"))
        assert (status, body) == (200, source)
        assert headers[b"Content-Length"] == str(len(source)).encode()
        status, _, body = asyncio.run(
            asgi_request("/static/css/site.css", (b"range", b"bytes=0-9"))
        )
        assert (status, body) == (206, source[:10])
        status, _, body = asyncio.run(asgi_request("/static/css/site.css", method="HEAD"))
        assert (status, body) == (200, b"")
    assert not [str(w.message) for w in caught if "StreamingHttpResponse" in str(w.message)]


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
                assert body_of(asset), url  # read to the end: that closes the file
                assert asset.status_code == 200, url
                assert asset["Content-Encoding"] == "br", url
                assert "immutable" in asset["Cache-Control"], url
        # The admin builds some image URLs without the hash at run time: still served.
        plain = client.get("/static/admin/img/icon-calendar.svg", HTTP_HOST=PUBLIC_HOST)
        assert body_of(plain).startswith(b"<svg")

    # `make run` collects on every start: the second run compresses nothing again.
    collect_for_production(static_root)
    again = {p: p.stat().st_ino for p in static_root.rglob("*") if p.suffix in {".br", ".gz"}}
    assert again == compressed
