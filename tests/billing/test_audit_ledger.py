from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_context

from apps.billing import services
from apps.usage.models import UsageRecord
from tests.support import factories

D = Decimal


def audit(slug: str) -> tuple[int, str]:
    out = io.StringIO()
    try:
        call_command("audit_ledger", tenant=[slug], stdout=out)
    except SystemExit as exc:
        return int(exc.code or 0), out.getvalue()
    return 0, out.getvalue()


@pytest.fixture
def tenant(db: Any) -> Any:
    tenant = factories.tenant(product=factories.product(monthly_budget=D("5.00")))
    services.grant_credit(tenant, D("1.00"), by=None, note="promo")
    with schema_context(tenant.schema_name):
        UsageRecord.objects.create(
            request_id="req-1",
            created_at=timezone.now(),
            endpoint="chat",
            model="m",
            status="success",
            cost=D("0.40"),
        )
        UsageRecord.objects.create(
            request_id="req-2",
            created_at=timezone.now(),
            endpoint="chat",
            model="m",
            status="incomplete",
            cost=D("0"),
        )
    services.record_usage_charge(tenant.pk, request_id="req-1", amount=D("0.40"))
    return tenant


def test_it_passes_on_clean_data(tenant: Any) -> None:
    code, out = audit(tenant.slug)
    assert code == 0, out
    assert "OK: 1 tenant(s)" in out


def test_it_reports_a_counter_that_drifted(tenant: Any) -> None:
    with connection.cursor() as cur:
        cur.execute(
            "UPDATE billing_budget SET spent = spent + 0.01 WHERE tenant_id = %s", [tenant.pk]
        )
    code, out = audit(tenant.slug)
    assert code == 1
    assert "tenant spent: counter 0.41000000 != ledger 0.40000000" in out


def test_it_reports_a_usage_record_the_ledger_does_not_match(tenant: Any) -> None:
    with schema_context(tenant.schema_name):
        UsageRecord.objects.filter(request_id="req-1").update(cost=D("0.45"))
        UsageRecord.objects.create(
            request_id="req-3",
            created_at=timezone.now(),
            endpoint="chat",
            model="m",
            status="success",
            cost=D("0.10"),
        )
    code, out = audit(tenant.slug)
    assert code == 1
    assert "request req-1: ledger charged 0.40000000, usage record cost 0.45000000" in out
    assert "request req-3: ledger charged nothing, usage record cost 0.10000000" in out
    assert "2 difference(s)" in out


def test_it_reports_credit_that_does_not_add_up(tenant: Any) -> None:
    with connection.cursor() as cur:
        cur.execute(
            "UPDATE billing_budget SET credit = 5, reserved = 1 WHERE tenant_id = %s", [tenant.pk]
        )
    code, out = audit(tenant.slug)
    assert code == 1
    assert "tenant credit: counter 5.00000000 != ledger 1.00" in out
    assert "tenant reserved: counter 1.00000000 != ledger 0" in out
