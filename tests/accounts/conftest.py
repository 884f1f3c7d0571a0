"""Account tests: allauth counts attempts in the cache (this run's Redis database), so every
test starts and ends with no rate-limit history."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.accounts.flows import clear_rate_limits


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> Iterator[None]:
    clear_rate_limits()
    yield
    clear_rate_limits()
