from __future__ import annotations

import uuid
from decimal import Decimal

from django.db import connection
from django_tenants.utils import schema_context

from apps.billing import tasks
from apps.billing.budget import ReserveRequest, reserve, settle
from apps.billing.ledger import audit_tenant
from apps.billing.models import Budget, Reservation
from apps.core.db import connection as pool_connection
from apps.usage.models import UsageRecord
from tests.billing.conftest import Made, run, write_usage

D = Decimal


def _request(tenant_id: int, member_id: int | None, key_id: int | None) -> ReserveRequest:
    return ReserveRequest(
        request_id=uuid.uuid4().hex,
        tenant_id=tenant_id,
        member_id=member_id,
        api_key_id=key_id,
        prompt_cost=D("0.01"),
        output_token_cost=D("0.0001"),
        requested_max_output=100,
        model_cap=4096,
        endpoint="chat",
        model="mock-gpt",
    )


async def _reserve(r: ReserveRequest) -> int:
    async with pool_connection() as conn:
        return (await reserve(conn, r)).id


async def _finish(schema: str, rid: str, res_id: int, cost: Decimal) -> None:
    async with pool_connection() as conn, conn.transaction():
        await write_usage(conn, schema, rid, cost)
        await settle(conn, res_id, cost)


def _expire_now(res_id: int) -> None:
    with connection.cursor() as cur:
        cur.execute(
            "UPDATE billing_reservation SET expires_at = now() - interval '1 second' WHERE id = %s",
            [res_id],
        )


def test_an_abandoned_reservation_is_released_and_left_visible(made: Made) -> None:
    tenant = made.tenant("1.00")
    member = made.member(tenant)
    key = made.key(tenant, member)
    r = _request(tenant.pk, member.pk, key.pk)
    res_id = run(_reserve(r))
    fresh_id = run(_reserve(_request(tenant.pk, None, None)))  # not expired: stays held
    _expire_now(res_id)

    assert tasks.release_expired_reservations.delay().get() == {"released": 1, "failed": 0}

    assert Reservation.objects.get(pk=res_id).state == "expired"
    assert Reservation.objects.get(pk=fresh_id).state == "held"
    assert Budget.objects.get(tenant=tenant, scope="tenant").reserved == D("0.02")
    with schema_context(tenant.schema_name):
        record = UsageRecord.objects.get(request_id=r.request_id)
    assert (record.status, record.cost, record.model) == ("incomplete", 0, "mock-gpt")
    assert (record.api_key_id, record.api_key_prefix, record.member_id) == (
        key.pk,
        key.prefix,
        member.pk,
    )
    assert record.user_id == member.user_id
    # A second sweep finds nothing to do.
    assert tasks.release_expired_reservations() == {"released": 0, "failed": 0}


def test_a_late_settle_after_release_charges_once_and_releases_nothing(made: Made) -> None:
    tenant = made.tenant("1.00")
    r = _request(tenant.pk, None, None)
    res_id = run(_reserve(r))
    _expire_now(res_id)
    tasks.release_expired_reservations()

    # The request was still running after all: it settles with its real cost.
    run(_finish(tenant.schema_name, r.request_id, res_id, D("0.013")))
    run(_finish(tenant.schema_name, r.request_id, res_id, D("0.013")))

    row = Budget.objects.get(tenant=tenant, scope="tenant")
    assert (row.spent, row.reserved) == (D("0.013"), 0)
    with schema_context(tenant.schema_name):
        record = UsageRecord.objects.get(request_id=r.request_id)
    assert (record.status, record.cost) == ("success", D("0.013"))
    assert audit_tenant(tenant) == []


def test_a_settled_reservation_is_never_released(made: Made) -> None:
    tenant = made.tenant("1.00")
    r = _request(tenant.pk, None, None)
    res_id = run(_reserve(r))
    run(_finish(tenant.schema_name, r.request_id, res_id, D("0.02")))
    _expire_now(res_id)
    assert tasks.release_expired_reservations() == {"released": 0, "failed": 0}
    assert Budget.objects.get(tenant=tenant, scope="tenant").spent == D("0.02")


def test_an_existing_usage_record_is_left_alone(made: Made) -> None:
    tenant = made.tenant("1.00")
    r = _request(tenant.pk, None, None)
    res_id = run(_reserve(r))

    async def record_only() -> None:  # the record was written, the settle never ran
        async with pool_connection() as conn:
            await write_usage(conn, tenant.schema_name, r.request_id, D("0"), status="error")

    run(record_only())
    _expire_now(res_id)
    assert tasks.release_expired_reservations() == {"released": 1, "failed": 0}
    with schema_context(tenant.schema_name):
        assert UsageRecord.objects.get(request_id=r.request_id).status == "error"
    assert Budget.objects.get(tenant=tenant, scope="tenant").reserved == 0
