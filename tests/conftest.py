"""Suite-wide fixtures. Real PostgreSQL and Redis; the test database is kept between runs
(--reuse-db) and holds the public tenant and the template schema new tenants clone."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.support import factories


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: Any, django_db_blocker: Any) -> None:
    from apps.core.seed import bootstrap

    with django_db_blocker.unblock():
        bootstrap()


@pytest.fixture
def product(db: Any) -> Any:
    return factories.product()


@pytest.fixture
def alice(db: Any) -> Any:
    """Owner of tenant A."""
    return factories.user("alice@example.com")


@pytest.fixture
def bob(db: Any) -> Any:
    """A member of tenant A."""
    return factories.user("bob@example.com")


@pytest.fixture
def charlie(db: Any) -> Any:
    """An outsider: owner of tenant B."""
    return factories.user("charlie@example.com")


@pytest.fixture
def tenant_a(alice: Any, bob: Any, product: Any) -> Any:
    from apps.tenants.models import Membership

    tenant = factories.tenant("Tenant A", product=product, owner=alice)
    Membership.objects.create(user=bob, tenant=tenant, role=Membership.Role.MEMBER)
    return tenant


@pytest.fixture
def tenant_b(charlie: Any, product: Any) -> Any:
    return factories.tenant("Tenant B", product=product, owner=charlie)


@pytest.fixture(autouse=True)
def _public_schema_after_each_test() -> Iterator[None]:
    """Page requests through the test client switch this thread's connection to the
    tenant's schema (the tenant middleware); the next test must start on public."""
    yield
    from django.db import connection

    if connection.connection is not None:
        connection.set_schema_to_public()
