"""The database refuses a withdrawal that adds money and a second grant for one invoice."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.billing.ledger import ledger_balance
from apps.billing.models import LedgerEntry
from tests.support import factories

D = Decimal


def _entry(tenant: Any, kind: str, amount: str, request_id: str = "") -> LedgerEntry:
    budget = tenant.budgets.get(scope="tenant")
    return LedgerEntry.objects.create(
        tenant_id=tenant.pk,
        kind=kind,
        amount=D(amount),
        request_id=request_id,
        period=budget.period_start,
        created_at=timezone.now(),
    )


def test_the_database_refuses_bad_grant_entries(db: Any) -> None:
    tenant = factories.tenant(product=factories.product())
    _entry(tenant, "period_grant", "20.00", "in_1")

    with pytest.raises(IntegrityError), transaction.atomic():
        _entry(tenant, "grant_withdrawn", "5.00")
    with pytest.raises(IntegrityError), transaction.atomic():
        _entry(tenant, "period_grant", "20.00", "in_1")
    # Grants without an invoice (the resets') are not limited.
    _entry(tenant, "period_grant", "0")


def test_a_withdrawal_counts_against_the_periods_grant(db: Any) -> None:
    tenant = factories.tenant(product=factories.product(monthly_budget=D("5.00")))
    _entry(tenant, "period_grant", "20.00", "in_1")
    _entry(tenant, "grant_withdrawn", "-12.50")

    budget = tenant.budgets.get(scope="tenant")
    assert ledger_balance(tenant.pk, budget.period_start).granted == D("12.50")
