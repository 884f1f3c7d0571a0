"""A request id that another source (an ingest) already charged is a conflict: the
gateway's request is charged in full all the same and the conflict is logged at ERROR,
never treated as "already charged, charge 0"."""

from __future__ import annotations

import logging
from decimal import Decimal

import pytest

from apps.billing import services
from apps.billing.budget import ReserveRequest
from apps.billing.ledger import audit_tenant
from apps.billing.models import Budget, LedgerEntry
from apps.billing.models import Reservation as ReservationRow
from apps.gateway import accounting
from tests.billing.conftest import Made, gateway_context, outcome
from tests.support.loops import run

D = Decimal


def test_a_gateway_request_whose_id_an_ingest_charged_is_still_charged_in_full(
    made: Made, caplog: pytest.LogCaptureFixture
) -> None:
    tenant = made.tenant("1.00")
    issued = made.issued_key(tenant)
    request_id = "req_" + "c" * 32
    # Someone posted a cheap usage under the id the gateway is about to use.
    assert services.record_usage_charge(tenant.pk, request_id=request_id, amount=D("0.001"))

    async def served() -> int:
        ctx = await gateway_context(issued.secret, request_id)
        req = ReserveRequest(
            request_id=request_id,
            tenant_id=tenant.pk,
            member_id=None,
            api_key_id=issued.key.pk,
            prompt_cost=D("0.01"),
            output_token_cost=D("0.0001"),
            requested_max_output=100,
            model_cap=4096,
        )
        res = await accounting.reserve(ctx, req)
        await accounting.record(ctx, outcome(D("0.02")), res)
        return res.id

    with caplog.at_level(logging.ERROR, "cloudfreedom.gateway.accounting"):
        res_id = run(served())

    assert "usage_settle_conflict" in caplog.text and request_id in caplog.text
    budget = Budget.objects.get(tenant=tenant, scope="tenant")
    assert (budget.spent, budget.reserved) == (D("0.021"), 0)
    charges = dict(
        LedgerEntry.objects.filter(tenant_id=tenant.pk, request_id=request_id).values_list(
            "kind", "amount"
        )
    )
    assert charges == {"usage": D("-0.001"), "usage_conflict": D("-0.02")}
    row = ReservationRow.objects.get(pk=res_id)
    assert (row.state, row.actual_cost) == ("settled", D("0.02"))
    # The counters agree with the ledger; the request itself is flagged for an operator.
    problems = audit_tenant(tenant)
    assert len(problems) == 1 and request_id in problems[0]


def test_an_ingest_charge_of_an_id_the_gateway_charged_is_refused_loudly(
    made: Made, caplog: pytest.LogCaptureFixture
) -> None:
    tenant = made.tenant("1.00")
    issued = made.issued_key(tenant)

    async def served() -> str:
        ctx = await gateway_context(issued.secret)
        req = ReserveRequest(
            request_id=ctx.request_id,
            tenant_id=tenant.pk,
            member_id=None,
            api_key_id=issued.key.pk,
            prompt_cost=D("0.01"),
            output_token_cost=D("0.0001"),
            requested_max_output=100,
            model_cap=4096,
        )
        await accounting.record(ctx, outcome(D("0.02")), await accounting.reserve(ctx, req))
        return ctx.request_id

    request_id = run(served())
    with caplog.at_level(logging.ERROR, "apps.billing.services"):
        charged = services.record_usage_charge(tenant.pk, request_id=request_id, amount=D("0.5"))
    assert charged is False
    assert "budget.charge_conflict" in caplog.text
    assert Budget.objects.get(tenant=tenant, scope="tenant").spent == D("0.02")
    assert audit_tenant(tenant) == []
