"""dj-stripe's migration history is replaced by one migration that builds the same tables
(cloudfreedom/migrations/djstripe): it must match dj-stripe's models and replace exactly the
migrations dj-stripe ships, or a dj-stripe upgrade would silently lose a migration."""

from __future__ import annotations

import importlib.metadata
import io
from pathlib import Path
from typing import Any

import djstripe
from django.conf import settings
from django.core.management import call_command

from cloudfreedom.migrations.djstripe import __path__ as squashed_path

GENERATED_FROM = "2.11.0"


def _module() -> object:
    from importlib import import_module

    return import_module("cloudfreedom.migrations.djstripe.0001_squashed_0003_2_11")


def test_it_is_used_for_the_dj_stripe_it_was_generated_from() -> None:
    # On another version: regenerate it (see its docstring) or drop MIGRATION_MODULES.
    assert importlib.metadata.version("dj-stripe") == GENERATED_FROM
    assert settings.MIGRATION_MODULES["djstripe"] == "cloudfreedom.migrations.djstripe"


def test_it_replaces_exactly_the_migrations_dj_stripe_ships() -> None:
    shipped = sorted(p.stem for p in (Path(djstripe.__file__).parent / "migrations").glob("0*.py"))
    assert sorted(name for _, name in _module().Migration.replaces) == shipped  # type: ignore[attr-defined]
    assert [p.name for p in Path(squashed_path[0]).glob("0*.py")] == ["0001_squashed_0003_2_11.py"]


def test_it_matches_dj_stripe_models(db: Any) -> None:
    out = io.StringIO()
    call_command("makemigrations", "djstripe", check=True, dry_run=True, stdout=out)
    assert "No changes detected" in out.getvalue()
