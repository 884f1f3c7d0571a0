"""Celery tasks of the analytics app. Schedules are declared with the other periodic tasks."""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task

from apps.analytics.services import aggregate_tenant
from apps.tenants.models import Tenant

logger = logging.getLogger(__name__)


@shared_task(name="analytics.aggregate_usage")
def aggregate_usage() -> dict[str, Any]:
    """Roll up every customer tenant's new usage, one transaction per tenant.

    Runs on the public schema (rollups are public; records are read schema-qualified).
    Suspended tenants are included: their records written before the suspension still
    belong in the numbers. Tenants are taken by id and re-fetched, so one deleted meanwhile
    is skipped, and one tenant's failure is logged without stopping the others.
    """
    tenant_ids = list(
        Tenant.objects.filter(kind=Tenant.Kind.CUSTOMER).order_by("pk").values_list("pk", flat=True)
    )
    done: list[int] = []
    failed: list[int] = []
    for tenant_id in tenant_ids:
        tenant = Tenant.objects.filter(pk=tenant_id).first()
        if tenant is None:
            continue
        try:
            aggregate_tenant(tenant)
        except Exception:
            # Each tenant is its own transaction, so nothing partial stays behind; the next
            # run retries it from its unchanged watermark.
            logger.exception("analytics.aggregate_failed tenant=%s", tenant.slug)
            failed.append(tenant_id)
        else:
            done.append(tenant_id)
    return {"aggregated": len(done), "failed": failed}
