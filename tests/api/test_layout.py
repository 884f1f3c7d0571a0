"""`apps/api` is a presentation layer: views, serializers and permissions (plus its URLs).
Workflows live in their domain apps (provisioning in tenants, ingest in usage, the dry run
in billing, keys in keys), so nothing here writes a table or calls SQL of its own."""

from __future__ import annotations

import ast
from pathlib import Path

import apps.api

API_DIR = Path(apps.api.__file__).parent
ALLOWED = {
    "__init__.py",
    "apps.py",
    "urls.py",
    "views.py",
    "staff_views.py",
    "serializers.py",
    "permissions.py",
}
# ORM writes and raw SQL; the API reaches data through the domain apps' services.
FORBIDDEN_CALLS = {"create", "update", "delete", "bulk_create", "get_or_create", "execute"}


def python_files() -> list[Path]:
    return sorted(p for p in API_DIR.rglob("*.py") if "migrations" not in p.parts)


def test_it_holds_only_views_serializers_and_permissions() -> None:
    names = {str(p.relative_to(API_DIR)) for p in python_files()}
    assert names <= ALLOWED, sorted(names - ALLOWED)


def test_it_writes_nothing_itself() -> None:
    offences = []
    for path in python_files():
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in FORBIDDEN_CALLS
            ):
                offences.append(f"{path.name}:{node.lineno} .{node.func.attr}()")
    assert offences == []
