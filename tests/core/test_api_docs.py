from __future__ import annotations

from typing import Any


def test_the_openapi_schema_and_its_docs_page_are_served(db: Any, client: Any) -> None:
    schema = client.get("/api/schema/", HTTP_HOST="localhost")
    assert schema.status_code == 200
    assert b"openapi: 3" in schema.content
    docs = client.get("/api/docs/", HTTP_HOST="localhost")
    assert docs.status_code == 200
    assert b"swagger-ui" in docs.content
    # Swagger UI's own files, from this site (drf-spectacular-sidecar), never a CDN.
    assert b'src="/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle' in docs.content
    assert b"cdn.jsdelivr.net" not in docs.content


def test_redoc_is_served_from_local_assets_without_web_fonts(db: Any, client: Any) -> None:
    redoc = client.get("/api/redoc/", HTTP_HOST="localhost")
    assert redoc.status_code == 200
    assert b'src="/static/drf_spectacular_sidecar/redoc/bundles/redoc.standalone' in redoc.content
    assert b"cdn.jsdelivr.net" not in redoc.content
    assert b"fonts.googleapis.com" not in redoc.content


def test_the_landing_page_lists_active_plans_only(db: Any, client: Any) -> None:
    from tests.support import factories

    factories.product(name="Visible Plan")
    factories.product(name="Hidden Plan", is_active=False)
    page = client.get("/", HTTP_HOST="localhost")
    assert page.status_code == 200
    assert b"Visible Plan" in page.content
    assert b"Hidden Plan" not in page.content


def test_a_tenant_host_sends_its_root_to_the_portal(db: Any, client: Any) -> None:
    from tests.support import factories

    tenant = factories.tenant("Acme Workspace", product=factories.product())
    page = client.get("/", HTTP_HOST=tenant.get_primary_domain().domain)
    assert page.status_code == 302
    assert page["Location"] == "/app/"
