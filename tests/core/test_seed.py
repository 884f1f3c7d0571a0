from __future__ import annotations

from typing import Any

from apps.accounts.models import User
from apps.catalog.models import ModelPrice, ModelRoute, Product, Provider
from apps.core.seed import seed_demo
from apps.tenants.models import Domain, Tenant


def _counts() -> dict[str, int]:
    return {
        "users": User.objects.count(),
        "products": Product.objects.count(),
        "providers": Provider.objects.count(),
        "routes": ModelRoute.objects.count(),
        "prices": ModelPrice.objects.count(),
        "tenants": Tenant.objects.count(),
        "domains": Domain.objects.count(),
    }


def test_seeding_twice_is_the_same_as_once(db: Any) -> None:
    first = seed_demo()
    after_first = _counts()
    second = seed_demo()

    assert first.admin_password  # printed once…
    assert second.admin_password is None  # …and never again
    assert second.created == []
    assert _counts() == after_first
    demo = Tenant.objects.get(slug="demo")
    assert Domain.objects.filter(tenant=demo, domain="demo.localhost").exists()
    assert Product.objects.filter(slug__in=["free", "starter", "pro"]).count() == 3
    assert Product.objects.get(slug="free").signup_default
    admin = User.objects.get(email="admin@cloudfreedom.localhost")
    assert admin.is_superuser
    # The demo admin signs in on the site without a verification mail.
    assert admin.emailaddress_set.get(email=admin.email).verified
