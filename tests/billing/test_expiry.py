"""A request that reached an upstream is never free: when its process dies or its usage
record cannot be written, the expiry of its reservation charges the prompt's cost and
leaves an `incomplete` record with that cost. Requests run the gateway's own path."""

from __future__ import annotations

import logging
from decimal import Decimal

import pytest
from django.db import connection
from django_tenants.utils import schema_context

from apps.billing import tasks
from apps.billing.budget import Reservation, ReserveRequest
from apps.billing.ledger import audit_tenant
from apps.billing.models import Budget, LedgerEntry
from apps.billing.models import Reservation as ReservationRow
from apps.gateway import accounting
from apps.gateway.context import RequestContext
from apps.keys.services import NewKey
from apps.tenants.models import Membership, Tenant
from apps.usage.models import UsageRecord
from tests.billing.conftest import Made, gateway_context, outcome
from tests.support.loops import run

D = Decimal
PROMPT = D("0.01")  # the reservation's prompt part; 100 output tokens add 0.01


def _request(ctx: RequestContext, member_id: int | None) -> ReserveRequest:
    return ReserveRequest(
        request_id=ctx.request_id,
        tenant_id=ctx.key.tenant_id,
        member_id=member_id,
        api_key_id=ctx.key.key_id,
        prompt_cost=PROMPT,
        output_token_cost=D("0.0001"),
        requested_max_output=100,
        model_cap=4096,
        endpoint="chat",
        model="mock-gpt",
    )


def _reserve(issued: NewKey, member: Membership | None) -> tuple[RequestContext, Reservation]:
    async def go() -> tuple[RequestContext, Reservation]:
        ctx = await gateway_context(issued.secret)
        return ctx, await accounting.reserve(ctx, _request(ctx, member and member.pk))

    return run(go())


def _expire_now(res_id: int) -> None:
    with connection.cursor() as cur:
        cur.execute(
            "UPDATE billing_reservation SET expires_at = now() - interval '1 second' WHERE id = %s",
            [res_id],
        )


def _record_of(tenant: Tenant, request_id: str) -> UsageRecord:
    with schema_context(tenant.schema_name):
        return UsageRecord.objects.get(request_id=request_id)


def test_a_dead_request_is_charged_its_prompt_when_its_reservation_expires(made: Made) -> None:
    tenant = made.tenant("1.00")
    member = made.member(tenant)
    issued = made.issued_key(tenant, member)
    ctx, res = _reserve(issued, member)  # ... and the process dies
    _, fresh = _reserve(issued, None)  # not expired: stays held
    _expire_now(res.id)

    assert tasks.release_expired_reservations.delay().get() == {"released": 1, "failed": 0}

    row = ReservationRow.objects.get(pk=res.id)
    assert (row.state, row.prompt_cost, row.actual_cost) == ("expired", PROMPT, PROMPT)
    assert ReservationRow.objects.get(pk=fresh.id).state == "held"
    budget = Budget.objects.get(tenant=tenant, scope="tenant")
    assert (budget.spent, budget.reserved) == (PROMPT, fresh.amount)
    entry = LedgerEntry.objects.get(tenant_id=tenant.pk, request_id=ctx.request_id)
    assert (entry.kind, entry.amount, entry.member_id) == ("usage", -PROMPT, member.pk)
    record = _record_of(tenant, ctx.request_id)
    assert (record.status, record.cost, record.model) == ("incomplete", PROMPT, "mock-gpt")
    assert (record.api_key_id, record.api_key_prefix, record.member_id, record.user_id) == (
        issued.key.pk,
        issued.key.prefix,
        member.pk,
        member.user_id,
    )
    assert audit_tenant(tenant) == []
    # A second sweep finds nothing to do.
    assert tasks.release_expired_reservations() == {"released": 0, "failed": 0}


def test_a_request_whose_record_cannot_be_written_is_not_free(
    made: Made, caplog: pytest.LogCaptureFixture
) -> None:
    tenant = made.tenant("1.00")
    issued = made.issued_key(tenant)

    async def served_but_unrecordable() -> tuple[RequestContext, Reservation]:
        ctx = await gateway_context(issued.secret)
        res = await accounting.reserve(ctx, _request(ctx, None))
        broken = outcome(D("0.015"))
        broken.model = "m" * 300  # longer than the column: the database refuses the record
        await accounting.record(ctx, broken, res)
        return ctx, res

    with caplog.at_level(logging.ERROR, "cloudfreedom.gateway.accounting"):
        ctx, res = run(served_but_unrecordable())
    assert "usage_record_failed" in caplog.text
    assert ReservationRow.objects.get(pk=res.id).state == "held"

    _expire_now(res.id)
    assert tasks.release_expired_reservations() == {"released": 1, "failed": 0}
    assert Budget.objects.get(tenant=tenant, scope="tenant").spent == PROMPT
    record = _record_of(tenant, ctx.request_id)
    assert (record.status, record.cost) == ("incomplete", PROMPT)
    assert audit_tenant(tenant) == []


def test_a_late_settle_after_expiry_charges_nothing_more(
    made: Made, caplog: pytest.LogCaptureFixture
) -> None:
    tenant = made.tenant("1.00")
    issued = made.issued_key(tenant)
    ctx, res = _reserve(issued, None)
    _expire_now(res.id)
    tasks.release_expired_reservations()

    # The request was still running after all; its budget was released meanwhile (and
    # may be spent), so the expiry's charge stands and the late settle only tells.
    with caplog.at_level(logging.ERROR, "cloudfreedom.gateway.accounting"):
        run(accounting.record(ctx, outcome(D("0.013")), res))
        run(accounting.record(ctx, outcome(D("0.013")), res))
    assert "usage_settle_after_expiry" in caplog.text

    budget = Budget.objects.get(tenant=tenant, scope="tenant")
    assert (budget.spent, budget.reserved) == (PROMPT, 0)
    assert _record_of(tenant, ctx.request_id).cost == PROMPT
    assert audit_tenant(tenant) == []


def test_a_settled_reservation_is_never_released(made: Made) -> None:
    tenant = made.tenant("1.00")
    issued = made.issued_key(tenant)
    ctx, res = _reserve(issued, None)
    run(accounting.record(ctx, outcome(D("0.02")), res))
    _expire_now(res.id)
    assert tasks.release_expired_reservations() == {"released": 0, "failed": 0}
    assert Budget.objects.get(tenant=tenant, scope="tenant").spent == D("0.02")
    assert _record_of(tenant, ctx.request_id).status == "success"
    assert audit_tenant(tenant) == []
