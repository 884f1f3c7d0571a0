from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.core.management import call_command
from rest_framework.test import APIClient

ENDPOINTS = {
    ("/api/tenants/{slug}/budget-check", "post"),
    ("/api/tenants/{slug}/budget", "get"),
    ("/api/tenants/{slug}/usage", "post"),
    ("/api/tenants/{slug}/usage/summary", "get"),
    ("/api/tenants/{slug}/ledger", "get"),
    ("/api/tenants/{slug}/keys", "get"),
    ("/api/tenants/{slug}/keys", "post"),
    ("/api/tenants/{slug}/keys/{prefix}/revoke", "post"),
    ("/api/tenants/{slug}/members", "get"),
    ("/api/tenants/{slug}/members/{member_id}", "patch"),
    ("/api/staff/tenants", "post"),
    ("/api/staff/tenants/{slug}/suspend", "post"),
    ("/api/staff/tenants/{slug}/activate", "post"),
    ("/api/staff/tenants/{slug}/reset-budget", "post"),
    ("/api/staff/tenants/{slug}/grant-credit", "post"),
    ("/api/staff/provision", "post"),
}


def test_the_schema_lists_every_endpoint(api: Callable[[Any], APIClient], db: Any) -> None:
    response = api(None).get("/api/schema/", {"format": "json"})

    assert response.status_code == 200
    paths = response.json()["paths"]
    listed = {(path, method) for path, ops in paths.items() for method in ops}
    assert ENDPOINTS <= listed
    assert response.json()["components"]["securitySchemes"]["tokenAuth"]["type"] == "apiKey"
    ingest = paths["/api/tenants/{slug}/usage"]["post"]
    assert {"200", "201", "400", "409"} <= set(ingest["responses"])


def test_the_schema_generates_without_warnings(tmp_path: Path, db: Any) -> None:
    out = tmp_path / "schema.yaml"
    call_command(
        "spectacular", "--fail-on-warn", "--urlconf", "cloudfreedom.urls_public", "--file", str(out)
    )
    assert "/api/tenants/{slug}/budget-check" in out.read_text()
