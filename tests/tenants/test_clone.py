"""New tenants are cloned from the template with clone functions installed once per
database, not re-created (and re-compiled) for every tenant, and record the template's
migrations without a fake migrate."""

from __future__ import annotations

from typing import Any

from django.db import connection

from apps.tenants.clone import SIGNATURE, _tag, ensure_clone_functions
from tests.support import factories


def _function_version() -> tuple[int, int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT oid::int, xmin::text::bigint FROM pg_proc WHERE oid = to_regprocedure(%s)",
            [SIGNATURE],
        )
        return cursor.fetchone()


def _migrations(schema: str) -> list[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT app, name FROM "{schema}".django_migrations ORDER BY app, name')
        return cursor.fetchall()


def test_it_clones_without_reinstalling_the_functions(db: Any) -> None:
    ensure_clone_functions()
    before = _function_version()

    first = factories.tenant(product=factories.product())
    second = factories.tenant(product=factories.product())

    assert _function_version() == before  # the same row: never replaced
    assert ensure_clone_functions() is False
    assert _migrations(first.schema_name) == _migrations("tenant_template")
    assert _migrations(second.schema_name) == _migrations("tenant_template")
    assert ("usage", "0001_initial") in _migrations(first.schema_name)


def test_it_installs_the_functions_again_when_their_source_changed(db: Any) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"COMMENT ON FUNCTION {SIGNATURE} IS 'an older django-tenants'")

    tenant = factories.tenant(product=factories.product())

    with connection.cursor() as cursor:
        cursor.execute("SELECT obj_description(to_regprocedure(%s), 'pg_proc')", [SIGNATURE])
        assert cursor.fetchone()[0] == _tag()
    assert _migrations(tenant.schema_name) == _migrations("tenant_template")
