"""The ingest API never records or charges a request the gateway served: its ids, ids with
a reservation and ids already charged elsewhere are a 409 conflict, and nothing changes."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from apps.billing import budget
from apps.billing import services as billing
from apps.billing.models import LedgerEntry
from apps.gateway.context import new_request_id
from apps.usage.ingest import GATEWAY_ID_PREFIX
from apps.usage.records import UsageRow, write_usage_sync
from tests.api.conftest import MODEL, snapshot
from tests.api.test_usage_ingest import ingest, usage


def gateway_reservation(tenant: Any, key: Any, request_id: str) -> int:
    """Reserve `request_id` as the gateway does (the same SQL), returning the reservation."""
    req = budget.ReserveRequest(
        request_id=request_id,
        tenant_id=tenant.pk,
        member_id=key.member_id,
        api_key_id=key.pk,
        prompt_cost=Decimal("0.001"),
        output_token_cost=Decimal("0.000002"),
        requested_max_output=100,
        model_cap=4096,
        endpoint="chat",
        model=MODEL,
    )
    with connection.cursor() as cur:
        cur.execute(budget.RESERVE_FOR_KEY_SQL, (key.pk, *budget.reserve_params(req)))
        row = cur.fetchone()
    assert row[3] == "ok"
    return int(row[4])


def test_the_gateway_prefix_is_the_gateways() -> None:
    """The refusal below is only as good as this: every id the gateway issues has it."""
    assert all(new_request_id().startswith(GATEWAY_ID_PREFIX) for _ in range(100))


def test_ids_the_gateway_issues_are_refused(
    api: Callable[[Any], APIClient], tenant_a: Any, service: Any, bob_key: Any
) -> None:
    before = snapshot(tenant_a)

    response = ingest(
        api(service), tenant_a, usage(request_id=new_request_id(), key_prefix=bob_key.key.prefix)
    )

    assert response.status_code == 409
    assert set(response.json()) == {"request_id"}
    assert snapshot(tenant_a) == before


def test_an_id_with_a_reservation_is_refused(
    api: Callable[[Any], APIClient], tenant_a: Any, service: Any, bob_key: Any
) -> None:
    """Held: posting it would charge it once here and once more when the gateway settles."""
    gateway_reservation(tenant_a, bob_key.key, "proxy-style-id-1")
    before = snapshot(tenant_a)

    response = ingest(api(service), tenant_a, usage(request_id="proxy-style-id-1"))

    assert response.status_code == 409
    assert set(response.json()) == {"request_id"}
    assert snapshot(tenant_a) == before


def test_a_record_the_gateway_wrote_is_not_a_repeat(
    api: Callable[[Any], APIClient], tenant_a: Any, service: Any, bob_key: Any
) -> None:
    """Recorded and settled by the gateway: a 409, not a 200 that passes the gateway's
    record off as the reporter's."""
    request_id = "proxy-style-id-2"
    reservation = gateway_reservation(tenant_a, bob_key.key, request_id)
    write_usage_sync(
        tenant_a.schema_name,
        UsageRow(
            request_id=request_id,
            created_at=timezone.now(),
            endpoint="chat",
            model=MODEL,
            status="success",
            api_key_id=bob_key.key.pk,
            cost=Decimal("0.0005"),
        ),
    )
    with connection.cursor() as cur:
        cur.execute(budget.SETTLE_SQL, (reservation, Decimal("0.0005")))
    before = snapshot(tenant_a)

    response = ingest(api(service), tenant_a, usage(request_id=request_id))

    assert response.status_code == 409
    assert set(response.json()) == {"request_id"}
    assert snapshot(tenant_a) == before


def test_an_id_charged_without_a_record_is_a_conflict(
    api: Callable[[Any], APIClient], tenant_a: Any, service: Any, model: Any
) -> None:
    billing.record_usage_charge(tenant_a.pk, request_id="lost-record", amount=Decimal("0.01"))
    before = snapshot(tenant_a)

    response = ingest(api(service), tenant_a, usage(request_id="lost-record"))

    assert response.status_code == 409
    assert set(response.json()) == {"request_id"}
    assert snapshot(tenant_a) == before
    assert LedgerEntry.objects.filter(tenant=tenant_a, request_id="lost-record").count() == 1
