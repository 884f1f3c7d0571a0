from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from apps.billing import services
from apps.billing.ledger import ledger_balance
from apps.billing.models import Budget, LedgerEntry, ReadOnlyError
from tests.support import factories

D = Decimal


@pytest.fixture
def tenant(db: Any) -> Any:
    return factories.tenant(product=factories.product(monthly_budget=D("5.00")))


def test_the_ledger_is_append_only(tenant: Any) -> None:
    entry = services.grant_credit(tenant, D("2.00"), by=None, note="promo")
    entry.amount = D("200.00")
    with pytest.raises(ReadOnlyError):
        entry.save()
    with pytest.raises(ReadOnlyError):
        entry.delete()
    entries = LedgerEntry.objects.filter(tenant_id=tenant.pk)
    with pytest.raises(ReadOnlyError):
        entries.update(amount=0)
    with pytest.raises(ReadOnlyError):
        entries.delete()
    assert LedgerEntry.objects.get(pk=entry.pk).amount == D("2.00")


def test_credit_moves_are_entries_and_balances_derive_from_them(tenant: Any) -> None:
    staff = factories.user(is_staff=True)
    services.grant_credit(tenant, D("2.00"), by=staff, note="promo")
    services.purchase_credit(tenant, D("10.00"), reference="pi_123")
    services.purchase_credit(tenant, D("10.00"), reference="pi_123")  # a repeated webhook
    services.adjust(tenant, D("-0.50"), by=staff, note="goodwill reversed")
    services.adjust(tenant, D("0.25"), by=staff, note="failed request", kind="refund")

    budget = Budget.objects.get(tenant=tenant, scope="tenant")
    assert budget.credit == D("11.75")
    bal = ledger_balance(tenant.pk, budget.period_start)
    assert (bal.granted, bal.credit, bal.spent) == (D("5.00"), D("11.75"), 0)
    assert bal.remaining == budget.remaining == D("16.75")
    kinds = sorted(LedgerEntry.objects.filter(tenant_id=tenant.pk).values_list("kind", flat=True))
    assert kinds == ["adjustment", "credit_grant", "credit_purchase", "period_grant", "refund"]


def test_bad_money_moves_are_refused(tenant: Any) -> None:
    with pytest.raises(services.BillingError):
        services.grant_credit(tenant, D("-1"), by=None, note="x")
    with pytest.raises(services.BillingError):
        services.adjust(tenant, D("1"), by=None, note="")
    with pytest.raises(services.BillingError):
        services.adjust(tenant, D("1"), by=None, note="x", kind="usage")
    assert LedgerEntry.objects.filter(tenant_id=tenant.pk).count() == 1  # the grant only


def test_an_ingested_charge_is_idempotent(tenant: Any) -> None:
    assert services.record_usage_charge(tenant.pk, request_id="ext-1", amount=D("0.30"))
    assert not services.record_usage_charge(tenant.pk, request_id="ext-1", amount=D("0.30"))
    assert Budget.objects.get(tenant=tenant, scope="tenant").spent == D("0.30")


def test_budget_status_shows_every_scope(tenant: Any) -> None:
    from apps.keys.models import ApiKey
    from apps.tenants.models import Membership

    member = Membership.objects.create(user=factories.user(), tenant=tenant)
    key = ApiKey.objects.create(tenant=tenant, prefix=factories.unique("k"), digest="0" * 64)
    services.set_member_limit(member, D("1.00"))
    services.set_key_limit(key, D("0.25"))
    status = services.budget_status(tenant)
    assert status["members"][0]["member_id"] == member.pk
    assert status["members"][0]["remaining"] == D("1.00")
    assert status["keys"][0]["limit"] == D("0.25")
    for scope in (status["tenant"], status["members"][0], status["keys"][0]):
        assert set(scope) >= {
            "limit",
            "spent",
            "reserved",
            "remaining",
            "period_start",
            "next_reset_at",
        }
    with pytest.raises(services.BillingError):
        services.set_key_limit(key, D("-1"))
