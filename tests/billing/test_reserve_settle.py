from __future__ import annotations

import uuid
from decimal import Decimal

import psycopg.errors
import pytest
from django_tenants.utils import schema_context

from apps.billing import services
from apps.billing.budget import BudgetExceeded, Reservation, ReserveRequest
from apps.billing.models import Budget, LedgerEntry
from apps.billing.models import Reservation as ReservationRow
from apps.keys.models import ApiKey
from apps.tenants.models import Tenant
from apps.usage.models import UsageRecord
from tests.billing.conftest import Made, finish, reserve, usage
from tests.support.loops import run

D = Decimal


def req(tenant_id: int, **extra: object) -> ReserveRequest:
    fields: dict[str, object] = {
        "request_id": uuid.uuid4().hex,
        "tenant_id": tenant_id,
        "member_id": None,
        "api_key_id": None,
        "prompt_cost": D("0.01"),
        "output_token_cost": D("0.0001"),
        "requested_max_output": 100,
        "model_cap": 4096,
    }
    fields.update(extra)
    return ReserveRequest(**fields)  # type: ignore[arg-type]


def _reserve(r: ReserveRequest) -> Reservation:
    """The gateway's reservation, checked against a key of the request's tenant."""
    key = ApiKey.objects.filter(tenant_id=r.tenant_id).first()
    if key is None:
        key = ApiKey.objects.create(tenant_id=r.tenant_id, prefix=uuid.uuid4().hex, digest="0")
    return run(reserve(r, key.pk))


def _settle(res: Reservation, cost: Decimal) -> str | None:
    """The gateway's record + settle script; returns billing_settle's status."""
    schema = Tenant.objects.get(pk=ReservationRow.objects.get(pk=res.id).tenant_id).schema_name
    return run(finish(schema, usage(res.request_id, cost), res.id)).settlement


def tenant_row(tenant_id: int) -> Budget:
    return Budget.objects.get(tenant_id=tenant_id, scope="tenant")


def test_it_reserves_the_worst_case_and_settles_the_actual_cost(made: Made) -> None:
    tenant = made.tenant("1.00")
    r = req(tenant.pk)
    res = _reserve(r)

    assert res.amount == D("0.02")  # 0.01 prompt + 100 x 0.0001
    assert res.max_output_tokens == 100
    assert res.tightest_scope == "tenant"
    assert res.remaining == D("0.98")
    b = tenant_row(tenant.pk)
    assert (b.reserved, b.spent) == (D("0.02"), 0)

    _settle(res, D("0.015"))
    b = tenant_row(tenant.pk)
    assert (b.reserved, b.spent) == (0, D("0.015"))
    entry = LedgerEntry.objects.get(request_id=r.request_id)
    assert (entry.kind, entry.amount) == ("usage", D("-0.015"))
    assert ReservationRow.objects.get(pk=res.id).state == "settled"


def test_settling_twice_charges_once(made: Made) -> None:
    tenant = made.tenant("1.00")
    res = _reserve(req(tenant.pk))
    assert _settle(res, D("0.02")) == "settled"
    assert _settle(res, D("0.02")) == "already"
    assert tenant_row(tenant.pk).spent == D("0.02")
    assert LedgerEntry.objects.filter(tenant_id=tenant.pk, kind="usage").count() == 1


def test_settling_an_unknown_reservation_raises_and_records_nothing(made: Made) -> None:
    tenant = made.tenant("1.00")
    with pytest.raises(psycopg.errors.NoDataFound):
        run(finish(tenant.schema_name, usage("req_orphan", D("0.01")), 10**12))
    with schema_context(tenant.schema_name):
        assert not UsageRecord.objects.filter(request_id="req_orphan").exists()


def test_a_repeated_request_id_returns_the_same_reservation(made: Made) -> None:
    tenant = made.tenant("1.00")
    r = req(tenant.pk)
    first = _reserve(r)
    again = _reserve(r)
    assert again.id == first.id
    assert tenant_row(tenant.pk).reserved == first.amount


def test_without_max_tokens_the_output_limit_shrinks_to_what_the_budget_covers(
    made: Made,
) -> None:
    tenant = made.tenant("0.05")
    res = _reserve(req(tenant.pk, requested_max_output=None))
    # 0.05 - 0.01 prompt leaves 400 output tokens at 0.0001, below the 4096 cap.
    assert res.max_output_tokens == 400
    assert res.amount == D("0.05")
    assert res.remaining == 0

    # Now nothing is left for even the minimal answer: refused, naming the scope.
    with pytest.raises(BudgetExceeded) as exc:
        _reserve(req(tenant.pk, requested_max_output=None))
    assert exc.value.scope == "tenant"
    assert exc.value.remaining == 0


def test_with_plenty_of_budget_the_model_cap_is_used(made: Made) -> None:
    tenant = made.tenant("100.00")
    res = _reserve(req(tenant.pk, requested_max_output=None, model_cap=1000))
    assert res.max_output_tokens == 1000
    res = _reserve(req(tenant.pk, requested_max_output=50_000, model_cap=1000))
    assert res.max_output_tokens == 1000  # min(requested, cap)


def test_an_explicit_max_tokens_that_does_not_fit_is_refused_not_shrunk(made: Made) -> None:
    tenant = made.tenant("0.05")
    with pytest.raises(BudgetExceeded) as exc:
        _reserve(req(tenant.pk, requested_max_output=1000))
    assert exc.value.scope == "tenant"
    assert exc.value.remaining == D("0.05")
    assert tenant_row(tenant.pk).reserved == 0
    assert not ReservationRow.objects.filter(tenant=tenant).exists()


def test_min_output_is_the_smallest_answer_served(made: Made) -> None:
    tenant = made.tenant("0.0115")  # covers the prompt and 15 tokens, not 16
    with pytest.raises(BudgetExceeded):
        _reserve(req(tenant.pk, requested_max_output=None))
    res = _reserve(req(tenant.pk, requested_max_output=None, min_output=10))
    assert res.max_output_tokens == 15


def test_each_scope_is_named_when_it_is_the_one_that_refuses(made: Made) -> None:
    tenant = made.tenant("10.00")
    member = made.member(tenant)
    key = made.key(tenant, member)
    services.set_member_limit(member, D("1.00"))
    services.set_key_limit(key, D("0.50"))
    ids = {"member_id": member.pk, "api_key_id": key.pk}

    res = _reserve(req(tenant.pk, **ids, requested_max_output=1000))  # 0.11
    assert res.tightest_scope == "key"
    assert res.remaining == D("0.39")
    with pytest.raises(BudgetExceeded) as exc:
        _reserve(req(tenant.pk, **ids, requested_max_output=5000, model_cap=8000))
    assert (exc.value.scope, exc.value.remaining) == ("key", D("0.39"))

    services.set_key_limit(key, None)  # now the member is the tightest
    with pytest.raises(BudgetExceeded) as exc:
        _reserve(req(tenant.pk, **ids, requested_max_output=9000, model_cap=9000))
    assert (exc.value.scope, exc.value.remaining) == ("member", D("0.89"))

    services.set_member_limit(member, None)
    with pytest.raises(BudgetExceeded) as exc:
        _reserve(req(tenant.pk, **ids, prompt_cost=D("20"), requested_max_output=1))
    assert (exc.value.scope, exc.value.remaining) == ("tenant", D("9.89"))

    # Every scope carried the one reservation.
    rows = {b.scope: b.reserved for b in Budget.objects.filter(tenant=tenant)}
    assert rows == {"tenant": D("0.11"), "member": D("0.11"), "key": D("0.11")}


def test_spend_uses_the_period_budget_then_credit(made: Made) -> None:
    tenant = made.tenant("0.10")
    services.grant_credit(tenant, D("0.05"), by=None, note="welcome")
    res = _reserve(req(tenant.pk, requested_max_output=None))
    assert res.amount == D("0.15")
    _settle(res, D("0.12"))
    status = services.budget_status(tenant)["tenant"]
    assert status["spent"] == D("0.12")
    assert status["credit_used"] == D("0.02")
    assert status["remaining"] == D("0.03")


def test_a_tenant_without_a_budget_row_cannot_spend(made: Made) -> None:
    tenant = made.tenant("1.00")
    Budget.objects.filter(tenant=tenant).delete()
    with pytest.raises(BudgetExceeded) as exc:
        _reserve(req(tenant.pk))
    assert exc.value.scope == "tenant"


def test_a_limit_set_mid_period_counts_what_was_already_spent(made: Made) -> None:
    tenant = made.tenant("10.00")
    member = made.member(tenant)
    held = _reserve(req(tenant.pk, member_id=member.pk))  # 0.02, still in flight
    done = _reserve(req(tenant.pk, member_id=member.pk))
    _settle(done, D("0.015"))

    row = services.set_member_limit(member, D("1.00"))
    assert (row.spent, row.reserved) == (D("0.015"), held.amount)
    _settle(held, D("0.01"))
    row.refresh_from_db()
    assert (row.spent, row.reserved) == (D("0.025"), 0)
