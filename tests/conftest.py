"""Suite-wide fixtures. Real PostgreSQL and Redis; the test database is kept between runs
(--reuse-db) and holds the public tenant and the template schema new tenants clone."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.support import factories


@pytest.fixture(scope="session")
def django_db_setup(
    request: pytest.FixtureRequest, django_db_setup: Any, django_db_blocker: Any
) -> Iterator[None]:
    """The test database, bootstrapped (public tenant + template schema).

    pytest-django sets up only the databases that collected tests ask for with `db` or a
    marker. Live-server tests use committed data instead (no `db` fixture), so a run of
    only those would otherwise talk to the development database: set it up here too."""
    from django.conf import settings
    from django.db import connection
    from django.test.utils import setup_databases, teardown_databases

    from apps.core.seed import bootstrap

    created = None
    with django_db_blocker.unblock():
        if connection.settings_dict["NAME"] != settings.DATABASES["default"]["TEST"]["NAME"]:
            keepdb = bool(request.config.getvalue("reuse_db")) and not request.config.getvalue(
                "create_db"
            )
            created = setup_databases(
                verbosity=0, interactive=False, aliases={"default"}, keepdb=keepdb
            )
            created = None if keepdb else created
        assert connection.settings_dict["NAME"] == settings.DATABASES["default"]["TEST"]["NAME"]
        bootstrap()
    yield
    if created is not None:
        with django_db_blocker.unblock():
            teardown_databases(created, verbosity=0)


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
