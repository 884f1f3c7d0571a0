"""Celery tasks of billing. They run on the public schema (budgets are public rows) and are
scheduled in cloudfreedom/schedules.py. Each unit of work re-fetches its row by id, so a
tenant or reservation that vanished meanwhile is skipped, and one failure stops no other."""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task

from apps.billing import services

logger = logging.getLogger(__name__)


@shared_task(name="billing.reset_due_budgets")
def reset_due_budgets() -> dict[str, Any]:
    """Start the new period of every tenant whose reset is due. Safe to run twice or
    concurrently: each tenant's due date is re-checked under its row lock."""
    reset: list[int] = []
    failed: list[int] = []
    for tenant_id in services.due_tenant_ids():
        try:
            if services.reset_if_due(tenant_id) is not None:
                reset.append(tenant_id)
        except Exception:
            # One tenant's failure must not keep every later tenant on last month's budget;
            # its row is unchanged (one transaction), so the next run retries it.
            logger.exception("budget.reset_failed tenant=%s", tenant_id)
            failed.append(tenant_id)
    return {"reset": reset, "failed": failed}


@shared_task(name="billing.release_expired_reservations")
def release_expired_reservations(batch: int = 1000) -> dict[str, int]:
    """Expire reservations whose request died: each is charged its prompt's cost and left
    as an `incomplete` usage record."""
    released = failed = 0
    for reservation_id in services.expired_reservation_ids(limit=batch):
        try:
            if services.release_reservation(reservation_id):
                released += 1
        except Exception:
            logger.exception("budget.release_failed reservation=%s", reservation_id)
            failed += 1
    return {"released": released, "failed": failed}


@shared_task(name="billing.prune_reservations")
def prune_reservations() -> int:
    """Delete finished reservations past their retention; held ones are never touched."""
    return services.prune_reservations()


@shared_task(name="billing.report_overage")
def report_overage() -> dict[str, Any]:
    """Tell Stripe's meter each subscribed tenant's overage delta (and a closed period's
    final total once). Safe to run twice or concurrently: see apps/billing/overage.py."""
    from apps.billing import overage

    events = 0
    failed: list[int] = []
    for tenant_id in overage.reporting_tenant_ids():
        try:
            events += len(overage.report_tenant(tenant_id))
        except Exception:
            # Stripe down or one tenant's data odd: the others still report; this tenant's
            # delta is sent by the next run (its in-flight total, if any, under the same id).
            logger.exception("billing.overage_report_failed tenant=%s", tenant_id)
            failed.append(tenant_id)
    return {"events": events, "failed": failed}
