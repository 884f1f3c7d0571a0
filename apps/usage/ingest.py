"""Usage reported by a trusted external service (e.g. a proxy in front of a provider).

The record goes through the one usage writer (`apps.usage.records.write_usage_sync`), its
cost through the one cost formula (`apps.catalog.pricing.cost_of`) and the charge through
billing's `billing_charge`, so ingested usage costs what proxied usage would and reads the
same everywhere. Only ids of the reporter's own making are accepted: an id the gateway
issued, or one that has a reservation, is the gateway's to record and settle, and posting it
here would either double-charge or hide a request behind a made-up record.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone
from django_tenants.utils import schema_context

from apps.billing import services as billing
from apps.billing.models import Reservation
from apps.catalog.pricing import cost_of, price_in_force
from apps.usage.models import UsageRecord
from apps.usage.records import UsageRow, write_usage_sync

if TYPE_CHECKING:
    from apps.catalog.models import ModelRoute
    from apps.keys.models import ApiKey
    from apps.tenants.models import Tenant

logger = logging.getLogger(__name__)

# Every id the gateway issues starts with this (`apps.gateway.context.new_request_id`; a
# test keeps the two in step). The namespace is the gateway's alone.
GATEWAY_ID_PREFIX = "req_"


class IngestError(ValueError):
    """The usage cannot be recorded. `field` names the input at fault; `conflict` is set
    when the id belongs to a request recorded (or to be recorded) some other way."""

    def __init__(self, field: str, message: str, *, conflict: bool = False) -> None:
        super().__init__(message)
        self.field = field
        self.conflict = conflict


@dataclass(frozen=True)
class ExternalUsage:
    """One request's usage as the reporter states it. Token counts are validated by the
    caller (non-negative, bounded; cached + cache writes within the prompt)."""

    request_id: str
    route: ModelRoute
    status: str
    key: ApiKey | None = None
    endpoint: str = UsageRecord.Endpoint.CHAT
    provider: str = ""
    upstream_model: str = ""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    cache_write_tokens: int = 0
    error_type: str = ""
    http_status: int | None = None
    latency_ms: int = 0
    ttft_ms: int | None = None
    streamed: bool = False
    created_at: datetime | None = None  # when the request started; None: now


def _existing(tenant: Tenant, request_id: str) -> UsageRecord | None:
    with schema_context(tenant.schema_name):
        return UsageRecord.objects.filter(request_id=request_id).first()


def _refuse_foreign_ids(tenant: Tenant, request_id: str) -> None:
    if request_id.startswith(GATEWAY_ID_PREFIX):
        raise IngestError(
            "request_id",
            f"Ids starting with '{GATEWAY_ID_PREFIX}' are issued by the gateway, which "
            "records their usage itself.",
            conflict=True,
        )
    # A reservation means the gateway (or the chat page) served this id: it settles it.
    if Reservation.objects.filter(tenant_id=tenant.pk, request_id=request_id).exists():
        raise IngestError("request_id", "This request id was served by the gateway.", conflict=True)


def ingest_usage(tenant: Tenant, usage: ExternalUsage) -> tuple[UsageRecord, bool]:
    """Record one request's usage in the tenant's schema and charge it, in one transaction.

    Idempotent by request id: a repeat returns the stored record (created=False) and
    charges nothing. Of two concurrent first deliveries, one writes and the other answers
    like a repeat.
    """
    if usage.key is not None and usage.key.tenant_id != tenant.pk:
        raise IngestError("key_prefix", "No API key with this prefix in this tenant.")
    _refuse_foreign_ids(tenant, usage.request_id)
    existing = _existing(tenant, usage.request_id)
    if existing is not None:
        return existing, False

    created_at = usage.created_at or timezone.now()
    price = price_in_force(usage.route, created_at)
    if price is None:
        # Never a silent $0: an unpriced model is refused, not recorded for free.
        raise IngestError("model", f"Model '{usage.route.public_name}' has no price.")
    factor = tenant.product.markup_factor if tenant.product_id else Decimal(1)
    cost = cost_of(price, usage, factor)
    key = usage.key
    member = key.member if key is not None else None
    row = UsageRow(
        request_id=usage.request_id,
        created_at=created_at,
        api_key_id=key.pk if key is not None else None,
        api_key_prefix=key.prefix if key is not None else "",
        member_id=member.pk if member is not None else None,
        user_id=member.user_id if member is not None else None,
        endpoint=usage.endpoint,
        model=usage.route.public_name,
        provider=usage.provider,
        upstream_model=usage.upstream_model,
        prompt_tokens=usage.prompt_tokens,
        completion_tokens=usage.completion_tokens,
        cached_tokens=usage.cached_tokens,
        cache_write_tokens=usage.cache_write_tokens,
        usage_reported=True,
        cost=cost,
        status=usage.status,
        error_type=usage.error_type,
        http_status=usage.http_status,
        latency_ms=usage.latency_ms,
        ttft_ms=usage.ttft_ms,
        streamed=usage.streamed,
    )
    with transaction.atomic():
        if not write_usage_sync(tenant.schema_name, row):
            record = _existing(tenant, usage.request_id)
            assert record is not None  # the writer saw it, and nothing deletes records
            return record, False
        try:
            charged = billing.record_usage_charge(
                tenant.pk,
                request_id=usage.request_id,
                amount=cost,
                member_id=row.member_id,
                api_key_id=row.api_key_id,
            )
        except billing.BillingError as exc:
            raise IngestError("non_field_errors", str(exc)) from exc
        if not charged:
            # The tenant's ledger already charged this id but holds no record of it: refuse
            # (rolling the record back) rather than keep a second, unbilled record.
            raise IngestError("request_id", "This request id was already charged.", conflict=True)
    record = _existing(tenant, usage.request_id)
    assert record is not None
    logger.info(
        "usage.ingested tenant=%s request_id=%s key=%s model=%s cost=%s",
        tenant.slug,
        usage.request_id,
        row.api_key_prefix,
        row.model,
        cost,
    )
    return record, True
