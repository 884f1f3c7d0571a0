"""Fixtures for the keys app. The lookup runs on the gateway's async pool (its own
connections), so its tests need COMMITTED rows: `made` creates them and removes exactly
those afterwards (see tests/billing/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.billing.conftest import Made


@pytest.fixture
def made(django_db_setup: Any, django_db_blocker: Any) -> Iterator[Made]:
    with django_db_blocker.unblock():
        m = Made()
        try:
            yield m
        finally:
            m.cleanup()
