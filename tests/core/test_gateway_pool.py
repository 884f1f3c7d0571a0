"""The gateway's async pool pins `search_path` to `public` on every connection: an
unqualified name on the hot path can never resolve in another schema."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from psycopg import sql

from apps.core import db


@pytest.fixture
def shadowing_schema(django_db_setup: Any, django_db_blocker: Any) -> Iterator[None]:
    """A table `cf_probe` in public and a same-named one in a schema named after the
    database user, which PostgreSQL's default search_path ("$user", public) tries first."""
    with django_db_blocker.unblock(), connection.cursor() as cur:
        cur.execute("SELECT current_user")
        user = cur.fetchone()[0]
        shadow = sql.Identifier(user)
        cur.execute(sql.SQL("CREATE SCHEMA {}").format(shadow).as_string())
        cur.execute(sql.SQL("CREATE TABLE {}.cf_probe (v text)").format(shadow).as_string())
        cur.execute(sql.SQL("INSERT INTO {}.cf_probe VALUES ('shadow')").format(shadow).as_string())
        cur.execute("CREATE TABLE public.cf_probe (v text)")
        cur.execute("INSERT INTO public.cf_probe VALUES ('public')")
        try:
            yield
        finally:
            cur.execute("DROP TABLE public.cf_probe")
            cur.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(shadow).as_string())


def test_pool_connections_resolve_unqualified_names_in_public(shadowing_schema: None) -> None:
    async def run() -> tuple[str, str]:
        try:
            async with db.connection() as conn:
                path = await (await conn.execute("SHOW search_path")).fetchone()
                probe = await (await conn.execute("SELECT v FROM cf_probe")).fetchone()
        finally:
            await db.POOLS.close_all()
        assert path is not None and probe is not None
        return path[0], probe[0]

    assert asyncio.run(run()) == ("public", "public")
