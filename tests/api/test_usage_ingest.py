from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django_tenants.utils import schema_context
from rest_framework.test import APIClient

from apps.billing import services as billing
from apps.billing.models import LedgerEntry
from apps.usage.models import UsageRecord
from tests.api.conftest import MODEL, snapshot
from tests.support import factories


def usage(**extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "request_id": "req-1",
        "model": MODEL,
        "provider": "external",
        "prompt_tokens": 1000,
        "completion_tokens": 500,
        "cached_tokens": 200,
        "status": "success",
        "latency_ms": 321,
        "ttft_ms": 45,
        "streamed": True,
    }
    body.update(extra)
    return body


def ingest(client: APIClient, tenant: Any, body: dict[str, Any]) -> Any:
    return client.post(f"/api/tenants/{tenant.slug}/usage", body, format="json")


def test_it_records_and_charges_new_usage(
    api: Callable[[Any], APIClient], tenant_a: Any, service: Any, bob_key: Any
) -> None:
    response = ingest(api(service), tenant_a, usage(key_prefix=bob_key.key.prefix))

    assert response.status_code == 201
    # 800 uncached * 1.00 + 200 cached * 0.50 + 500 output * 2.00, per 1M tokens.
    assert response.json()["cost"] == "0.00190000"
    with schema_context(tenant_a.schema_name):
        record = UsageRecord.objects.get(request_id="req-1")
    assert record.cost == Decimal("0.0019")
    assert record.api_key_id == bob_key.key.pk
    assert record.member_id == bob_key.key.member_id
    assert record.user_id == bob_key.key.member.user_id
    entry = LedgerEntry.objects.get(request_id="req-1")
    assert (entry.kind, entry.amount, entry.tenant_id) == ("usage", Decimal("-0.0019"), tenant_a.pk)
    status = billing.budget_status(tenant_a)
    assert status["tenant"]["spent"] == Decimal("0.0019")


def test_a_repeat_is_a_no_op(
    api: Callable[[Any], APIClient], tenant_a: Any, service: Any, model: Any
) -> None:
    client = api(service)
    first = ingest(client, tenant_a, usage())
    assert first.status_code == 201
    before = snapshot(tenant_a)

    again = ingest(client, tenant_a, usage(completion_tokens=999_999))

    assert again.status_code == 200, again.json()
    assert again.json() == first.json()
    assert snapshot(tenant_a) == before


def test_usage_without_a_key_is_charged_to_the_tenant(
    api: Callable[[Any], APIClient], tenant_a: Any, service: Any, model: Any
) -> None:
    response = ingest(api(service), tenant_a, usage(key_prefix=""))
    assert response.status_code == 201
    assert response.json()["api_key_prefix"] == ""
    assert billing.budget_status(tenant_a)["tenant"]["spent"] == Decimal("0.0019")


def test_bad_input_is_400_and_writes_nothing(
    api: Callable[[Any], APIClient], tenant_a: Any, service: Any, charlie_key: Any
) -> None:
    client = api(service)
    unpriced = factories.route("unpriced-model", price=None)
    before = snapshot(tenant_a)
    cases = [
        ({"request_id": ""}, {"request_id"}),
        ({"status": "great"}, {"status"}),
        ({"prompt_tokens": -1}, {"prompt_tokens"}),
        ({"cached_tokens": 5000}, {"cached_tokens"}),
        ({"created_at": "2999-01-01T00:00:00Z"}, {"created_at"}),
        ({"model": "no-such-model"}, {"model"}),
        ({"model": unpriced.public_name}, {"model"}),
        ({"key_prefix": charlie_key.key.prefix}, {"key_prefix"}),
    ]
    for change, fields in cases:
        response = ingest(client, tenant_a, usage(**change))
        assert response.status_code == 400, change
        assert set(response.json()) == fields, response.json()
    assert snapshot(tenant_a) == before


def test_request_ids_are_per_tenant(
    api: Callable[[Any], APIClient],
    tenant_a: Any,
    tenant_b: Any,
    service: Any,
    model: Any,
) -> None:
    """Tenant B's id neither blocks tenant A nor tells A that B used it."""
    client = api(service)
    assert ingest(client, tenant_b, usage(request_id="shared")).status_code == 201

    response = ingest(client, tenant_a, usage(request_id="shared"))

    assert response.status_code == 201
    for tenant in (tenant_a, tenant_b):
        charges = LedgerEntry.objects.filter(tenant=tenant, kind="usage", request_id="shared")
        assert charges.count() == 1
        with schema_context(tenant.schema_name):
            assert UsageRecord.objects.filter(request_id="shared").count() == 1
    # And a repeat within one tenant is still a no-op.
    assert ingest(client, tenant_a, usage(request_id="shared")).status_code == 200
    assert LedgerEntry.objects.filter(tenant=tenant_a, request_id="shared").count() == 1
