"""`make run` without a reachable PostgreSQL starts an embedded one (pgserver) and says so."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import psycopg

from cloudfreedom import devserver
from tests.support.processes import free_port


def test_it_falls_back_to_an_embedded_postgresql(
    tmp_path: Path, monkeypatch: Any, capsys: Any
) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setattr(devserver, "DEFAULT_DB", f"postgres://postgres@127.0.0.1:{free_port()}/x")
    monkeypatch.setattr(devserver, "DATA", tmp_path)

    # pgserver logs from an atexit hook, after pytest has closed its capture streams.
    logging.getLogger("pgserver").setLevel(logging.WARNING)
    url, server = devserver.find_database()
    try:
        assert server is not None
        assert "embedded" in capsys.readouterr().out
        with psycopg.connect(url) as conn:
            assert conn.execute("SELECT current_database()").fetchone()[0] == "cloudfreedom"
        assert (tmp_path / "postgres").is_dir()
    finally:
        server.cleanup()  # type: ignore[union-attr]
