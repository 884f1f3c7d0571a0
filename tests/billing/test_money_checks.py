"""The database refuses bad money: negative settlements, charges that credit, negative
reservations, spend or limits, whoever writes them."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection
from django.utils import timezone

from apps.billing.budget import ReserveRequest
from apps.billing.models import Budget, LedgerEntry, Reservation
from apps.usage.records import write_usage_sync
from tests.billing.conftest import Made, reserve, usage
from tests.support.loops import run

D = Decimal


def test_settle_raises_on_a_negative_cost_and_changes_nothing(made: Made) -> None:
    tenant = made.tenant("1.00")
    req = ReserveRequest(
        request_id=uuid.uuid4().hex,
        tenant_id=tenant.pk,
        member_id=None,
        api_key_id=None,
        prompt_cost=D("0.01"),
        output_token_cost=D("0.0001"),
        requested_max_output=100,
        model_cap=4096,
    )
    res = run(reserve(req, made.any_key(tenant)))
    with pytest.raises(IntegrityError, match="must not be negative"):
        with connection.cursor() as cur:
            cur.execute("SELECT public.billing_settle(%s, %s)", [res.id, D("-0.05")])
    with pytest.raises(IntegrityError, match="must not be negative"):
        with connection.cursor() as cur:
            cur.execute(
                "SELECT public.billing_charge(%s, NULL, NULL, 'x', %s)", [tenant.pk, D("-1")]
            )
    budget = Budget.objects.get(tenant=tenant, scope="tenant")
    assert (budget.spent, budget.reserved) == (0, res.amount)
    assert Reservation.objects.get(pk=res.id).state == "held"


def test_ledger_usage_is_always_a_charge_and_grants_never_negative(made: Made) -> None:
    tenant = made.tenant("1.00")
    now = timezone.now()
    for kind, amount in (
        ("usage", D("0.5")),
        ("usage_conflict", D("0.5")),
        ("period_grant", D("-1")),
        ("credit_grant", D("-1")),
        ("credit_purchase", D("-1")),
    ):
        with pytest.raises(IntegrityError):
            LedgerEntry.objects.create(
                tenant=tenant, kind=kind, amount=amount, period=now, created_at=now
            )
    # Signed corrections stay possible.
    LedgerEntry.objects.create(
        tenant=tenant, kind="adjustment", amount=D("-1"), period=now, created_at=now, note="x"
    )


def test_reservations_budgets_and_records_refuse_negative_money(made: Made) -> None:
    tenant = made.tenant("1.00")
    now = timezone.now()

    def reservation(**money: Decimal) -> None:
        Reservation.objects.create(
            request_id=uuid.uuid4().hex,
            tenant=tenant,
            max_output_tokens=1,
            created_at=now,
            expires_at=now + timedelta(minutes=1),
            **money,
        )

    for money in (
        {"amount": D("-0.01")},
        {"amount": D("0.01"), "prompt_cost": D("-0.01")},
        {"amount": D("0.01"), "prompt_cost": D("0.02")},  # the prompt is part of the amount
        {"amount": D("0.01"), "actual_cost": D("-0.01")},
    ):
        with pytest.raises(IntegrityError):
            reservation(**money)
    budget = Budget.objects.filter(tenant=tenant, scope="tenant")
    with pytest.raises(IntegrityError):
        budget.update(spent=D("-0.01"))
    with pytest.raises(IntegrityError):
        budget.update(limit=D("-1"))
    with pytest.raises(IntegrityError):
        write_usage_sync(tenant.schema_name, usage("req_negative", D("-0.01")))
