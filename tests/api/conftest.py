"""API clients with tokens, a priced model on tenant A's plan, and a key of bob's."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django_tenants.utils import schema_context
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from apps.billing.models import Budget, LedgerEntry
from apps.keys.models import ApiKey
from apps.keys.services import NewKey, create_api_key
from apps.tenants.models import Membership, Tenant
from apps.usage.models import UsageRecord
from tests.support import factories

MODEL = "test-model"


def client_for(user: Any | None) -> APIClient:
    # The tenant middleware routes by hostname: `localhost` is the public site.
    client = APIClient(HTTP_HOST="localhost")
    if user is not None:
        token, _ = Token.objects.get_or_create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def api() -> Callable[[Any | None], APIClient]:
    return client_for


@pytest.fixture
def staff(db: Any) -> Any:
    return factories.user("staff@example.com", is_staff=True)


@pytest.fixture
def service(db: Any) -> Any:
    """A trusted service's credential (an external proxy): `create_service_token`'s user."""
    from apps.accounts.services import ensure_service_user

    return ensure_service_user("edge-proxy")


def grant(user: Any, *perms: str) -> Any:
    """`user` holding the model permissions `perms` ("app_label.codename"), fresh from the
    database (Django caches a user's permissions on the instance)."""
    from django.contrib.auth.models import Permission

    for perm in perms:
        app_label, codename = perm.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    return type(user).objects.get(pk=user.pk)


@pytest.fixture
def model(product: Any) -> Any:
    """Priced per 1M tokens: input 1.00, output 2.00, cached 0.50, cache write 1.25."""
    route = factories.route(MODEL)
    product.allowed_models.add(route)
    return route


@pytest.fixture
def bob_key(tenant_a: Any, bob: Any, model: Any) -> NewKey:
    member = Membership.objects.get(tenant=tenant_a, user=bob)
    return create_api_key(tenant=tenant_a, name="bob's", member=member)


@pytest.fixture
def charlie_key(tenant_b: Any, model: Any) -> NewKey:
    return create_api_key(tenant=tenant_b, name="b's key")


def snapshot(tenant: Tenant) -> dict[str, Any]:
    """Everything an API call could change about a tenant, to prove it did not."""
    tenant.refresh_from_db()
    with schema_context(tenant.schema_name):
        records = list(UsageRecord.objects.values_list("request_id", "cost"))
    return {
        "status": tenant.status,
        "keys": list(
            ApiKey.objects.filter(tenant=tenant).values_list("prefix", "revoked_at").order_by("pk")
        ),
        "members": list(
            Membership.objects.filter(tenant=tenant).values_list("pk", "role").order_by("pk")
        ),
        "budgets": list(
            Budget.objects.filter(tenant=tenant)
            .values_list("scope", "limit", "credit", "spent", "reserved", "period_start")
            .order_by("pk")
        ),
        "ledger": LedgerEntry.objects.filter(tenant_id=tenant.pk).count(),
        "records": records,
    }
