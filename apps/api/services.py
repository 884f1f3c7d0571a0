"""The billing API's workflows. Views parse and authorise; these do the work.

Input that is wrong in a way only the database can tell (an unknown key prefix, a model
without a price) raises DRF's ValidationError with the field's name, so the client gets the
same 400 shape as for a malformed field, and the surrounding transaction rolls back.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django_tenants.utils import schema_context
from rest_framework.exceptions import ValidationError

from apps.accounts.models import User
from apps.billing import services as billing
from apps.catalog.models import ModelPrice, ModelRoute, Product
from apps.gateway.accounting import cost_of
from apps.gateway.catalog_cache import Price
from apps.gateway.providers.base import Usage
from apps.keys.models import ApiKey
from apps.keys.services import KeyError_, NewKey, create_api_key
from apps.tenants.models import Membership, Tenant
from apps.tenants.services import TenantError, create_tenant
from apps.usage.models import UsageRecord

if TYPE_CHECKING:
    from apps.billing.services import ResetResult

logger = logging.getLogger(__name__)

MILLION = Decimal(1_000_000)
EIGHT_PLACES = Decimal("0.00000001")
ZERO = Decimal(0)
# The smallest answer the gateway will still serve when it may shrink the output limit
# (the same value apps.gateway.accounting passes to billing_reserve).
MIN_OUTPUT_TOKENS = 16


def field_error(field: str, message: str) -> ValidationError:
    return ValidationError({field: [message]})


# --- Catalog and keys ---------------------------------------------------------------------


def markup_factor(tenant: Tenant) -> Decimal:
    return tenant.product.markup_factor if tenant.product_id else Decimal(1)


def priced_route(model: str, at: datetime | None = None) -> tuple[ModelRoute, ModelPrice]:
    """The active route and its price at `at`. A model without a price is refused, never
    charged a silent $0."""
    route = ModelRoute.objects.filter(public_name=model, is_active=True).first()
    if route is None:
        raise field_error("model", f"Unknown model '{model}'.")
    price = ModelPrice.objects.effective(route, at)
    if price is None:
        raise field_error("model", f"Model '{model}' has no price.")
    return route, price


def usage_cost(price: ModelPrice, usage: Usage, factor: Decimal) -> Decimal:
    """The gateway's own formula, so ingested usage costs what proxied usage would."""
    return cost_of(
        Price(
            price.input_per_mtok,
            price.output_per_mtok,
            price.cached_input_per_mtok,
            price.cache_write_per_mtok,
            price.effective_from,
            price.effective_to,
        ),
        usage,
        factor,
    )


def key_by_prefix(tenant: Tenant, prefix: str, field: str = "key_prefix") -> ApiKey:
    key = ApiKey.objects.select_related("member").filter(tenant=tenant, prefix=prefix).first()
    if key is None:
        raise field_error(field, "No API key with this prefix in this tenant.")
    return key


def model_allowed(tenant: Tenant, key: ApiKey, route: ModelRoute) -> bool:
    """Mirrors the gateway: the key's list (if any), then the plan's (if on a plan)."""
    if key.allowed_models and route.public_name not in key.allowed_models:
        return False
    if tenant.product_id is None:
        return True
    return tenant.product.allowed_models.filter(pk=route.pk).exists()


# --- Budget check (dry run) -------------------------------------------------------------


@dataclass(frozen=True)
class BudgetCheck:
    allowed: bool
    reason: str  # "ok" or why not
    scope: str | None  # the tightest (or the refusing) scope
    remaining: Decimal | None  # of that scope now; None: unlimited
    estimated_cost: Decimal
    max_output_tokens: int


def _tightest(status: dict[str, Any], key: ApiKey) -> tuple[str, Decimal]:
    """The smallest remaining amount among the scopes this key's requests must fit.

    Same order and tie rule as billing_reserve: tenant, then member, then key; a later
    scope wins a tie.
    """
    tenant_view = status.get("tenant")
    if tenant_view is None:  # no budget row: nothing may be spent
        return "tenant", ZERO
    scope, avail = "tenant", tenant_view["remaining"]
    candidates = [
        ("member", status.get("members", []), "member_id", key.member_id),
        ("key", status.get("keys", []), "api_key_id", key.pk),
    ]
    for name, views, id_field, owner_id in candidates:
        if owner_id is None:
            continue
        for view in views:
            if view.get(id_field) == owner_id and view["remaining"] is not None:
                if view["remaining"] <= avail:
                    scope, avail = name, view["remaining"]
    return scope, avail


def budget_check(
    tenant: Tenant,
    *,
    key_prefix: str,
    model: str,
    prompt_tokens: int,
    max_tokens: int | None = None,
) -> BudgetCheck:
    """Could this key afford this request right now? Computes what `billing_reserve` would
    decide, without writing a reservation (so the answer can be stale a moment later)."""
    key = key_by_prefix(tenant, key_prefix)
    route, price = priced_route(model)
    factor = markup_factor(tenant)
    embedding = route.mode == ModelRoute.Mode.EMBEDDING
    # The worst case of the prompt: cache writes may cost more than plain input.
    prompt_cost = (
        prompt_tokens * max(price.input_per_mtok, price.cache_write_per_mtok) / MILLION * factor
    ).quantize(EIGHT_PLACES, rounding=ROUND_HALF_UP)
    out_cost = ZERO if embedding else price.output_per_mtok / MILLION * factor
    cap = 0 if embedding else route.max_output_tokens
    out_tokens = min(max_tokens or cap, cap)

    def cost(tokens: int) -> Decimal:
        return (prompt_cost + tokens * out_cost).quantize(EIGHT_PLACES, rounding=ROUND_CEILING)

    def denied(reason: str, scope: str, remaining: Decimal | None) -> BudgetCheck:
        return BudgetCheck(False, reason, scope, remaining, cost(out_tokens), 0)

    if not tenant.is_active:
        return denied("tenant_suspended", "tenant", None)
    if key.is_revoked:
        return denied("key_revoked", "key", None)
    if key.is_expired:
        return denied("key_expired", "key", None)
    if not model_allowed(tenant, key, route):
        return denied("model_not_allowed", "key" if key.allowed_models else "tenant", None)

    scope, avail = _tightest(billing.budget_status(tenant), key)
    if cost(out_tokens) > avail:
        # Only an output limit the gateway chooses may shrink; an explicit one is refused.
        fit = -1
        if max_tokens is None and out_cost > 0:
            fit = math.floor((avail - prompt_cost) / out_cost)
        if fit < min(MIN_OUTPUT_TOKENS, cap):
            return denied("budget_exceeded", scope, max(avail, ZERO))
        out_tokens = min(fit, out_tokens)
    return BudgetCheck(True, "ok", scope, avail, cost(out_tokens), out_tokens)


# --- Usage ingest ------------------------------------------------------------------------


def ingest_usage(tenant: Tenant, data: dict[str, Any]) -> tuple[UsageRecord, bool]:
    """Record one request's usage in the tenant's schema and charge it, in one transaction.

    Idempotent by request id: a repeat returns the existing record (created=False) and
    charges nothing. Two concurrent first deliveries: the unique index makes one wait and
    then fail, and it answers like a repeat.
    """
    request_id: str = data["request_id"]
    with schema_context(tenant.schema_name):
        existing = UsageRecord.objects.filter(request_id=request_id).first()
    if existing is not None:
        return existing, False

    created_at = data.get("created_at") or timezone.now()
    _, price = priced_route(data["model"], created_at)
    key = key_by_prefix(tenant, data["key_prefix"]) if data.get("key_prefix") else None
    usage = Usage(
        prompt_tokens=data["prompt_tokens"],
        completion_tokens=data["completion_tokens"],
        cached_tokens=data["cached_tokens"],
        cache_write_tokens=data["cache_write_tokens"],
        reported=True,
    )
    cost = usage_cost(price, usage, markup_factor(tenant))
    member = key.member if key is not None else None
    fields = {
        "request_id": request_id,
        "created_at": created_at,
        "api_key_id": key.pk if key else None,
        "api_key_prefix": key.prefix if key else "",
        "member_id": member.pk if member else None,
        "user_id": member.user_id if member else None,
        "endpoint": data["endpoint"],
        "model": data["model"],
        "provider": data.get("provider", ""),
        "upstream_model": data.get("upstream_model", ""),
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "cached_tokens": usage.cached_tokens,
        "cache_write_tokens": usage.cache_write_tokens,
        "cost": cost,
        "status": data["status"],
        "error_type": data.get("error_type", ""),
        "http_status": data.get("http_status"),
        "latency_ms": data.get("latency_ms", 0),
        "ttft_ms": data.get("ttft_ms"),
        "streamed": data.get("streamed", False),
    }
    with transaction.atomic():
        with schema_context(tenant.schema_name):
            try:
                with transaction.atomic():
                    record = UsageRecord.objects.create(**fields)
            except IntegrityError:
                return UsageRecord.objects.get(request_id=request_id), False
        try:
            charged = billing.record_usage_charge(
                tenant.pk,
                request_id=request_id,
                amount=cost,
                member_id=record.member_id,
                api_key_id=record.api_key_id,
            )
        except billing.BillingError as exc:
            raise ValidationError({"non_field_errors": [str(exc)]})
        if not charged:
            # This tenant's ledger already charged this id but holds no record of it (the
            # record was lost): refuse rather than keep a second, unbilled record.
            raise field_error("request_id", "This request id was already charged.")
    logger.info(
        "api.usage_ingested tenant=%s request_id=%s key=%s model=%s cost=%s",
        tenant.slug,
        request_id,
        record.api_key_prefix,
        record.model,
        cost,
    )
    return record, True


# --- Keys and members --------------------------------------------------------------------


def member_of(tenant: Tenant, membership_id: int | None, field: str) -> Membership | None:
    if membership_id is None:
        return None
    member = Membership.objects.filter(tenant=tenant, pk=membership_id).first()
    if member is None:
        raise field_error(field, "No such member in this tenant.")
    return member


def check_models_exist(names: list[str], field: str = "allowed_models") -> None:
    known = set(
        ModelRoute.objects.filter(public_name__in=names).values_list("public_name", flat=True)
    )
    unknown = sorted(set(names) - known)
    if unknown:
        raise field_error(field, f"Unknown models: {', '.join(unknown)}.")


@transaction.atomic
def create_key(tenant: Tenant, *, by: User, data: dict[str, Any]) -> NewKey:
    """A key and (optionally) its monthly limit, together or not at all."""
    member = member_of(tenant, data.get("member_id"), "member_id")
    check_models_exist(data.get("allowed_models", []))
    try:
        new = create_api_key(
            tenant=tenant,
            name=data.get("name") or "default",
            member=member,
            created_by=by,
            allowed_models=data.get("allowed_models", []),
            expires_at=data.get("expires_at"),
            rpm_limit=data.get("rpm_limit"),
            tpm_limit=data.get("tpm_limit"),
        )
    except KeyError_ as exc:
        raise field_error("expires_at", str(exc))
    if data.get("monthly_limit") is not None:
        billing.set_key_limit(new.key, data["monthly_limit"])
    logger.info("api.key_created tenant=%s key=%s by=%s", tenant.slug, new.key.prefix, by.pk)
    return new


def limits_by_owner(tenant: Tenant) -> tuple[dict[int, dict[str, Any]], dict[int, dict[str, Any]]]:
    """Budget views of the tenant's members and keys, by membership id and key id."""
    status = billing.budget_status(tenant)
    members = {v["member_id"]: v for v in status.get("members", [])}
    keys = {v["api_key_id"]: v for v in status.get("keys", [])}
    return members, keys


# --- Staff -------------------------------------------------------------------------------


def staff_create_tenant(
    *, name: str, slug: str | None, product: Product | None, owner_email: str | None
) -> Tenant:
    owner = None
    if owner_email:
        owner = User.objects.filter(email__iexact=owner_email).first()
        if owner is None:
            raise field_error("owner_email", "No user with this email.")
    try:
        return create_tenant(name=name, slug=slug or None, product=product, owner=owner)
    except TenantError as exc:
        raise field_error("slug", str(exc))


@dataclass(frozen=True)
class Provisioned:
    user: User
    user_created: bool
    tenant: Tenant
    tenant_created: bool
    membership: Membership
    key: NewKey


@transaction.atomic
def provision(
    *,
    by: User,
    email: str,
    name: str,
    role: str,
    tenant: Tenant | None,
    tenant_name: str | None,
    product: Product | None,
    key_name: str,
) -> Provisioned:
    """User + membership + first key (+ tenant when named), all or nothing."""
    user = User.objects.filter(email__iexact=email).first()
    user_created = user is None
    if user is None:
        # No password: the user sets one through the password reset mail.
        user = User.objects.create_user(email, None, name=name)
    tenant_created = tenant is None
    if tenant is None:
        try:
            tenant = create_tenant(name=tenant_name or email, product=product)
        except TenantError as exc:
            raise field_error("tenant_name", str(exc))
    elif Membership.objects.filter(tenant=tenant, user=user).exists():
        raise field_error("email", "This user is already a member of the tenant.")
    membership = Membership.objects.create(user=user, tenant=tenant, role=role)
    key = create_api_key(tenant=tenant, name=key_name, member=membership, created_by=by)
    logger.info(
        "api.provisioned tenant=%s user=%s role=%s key=%s by=%s",
        tenant.slug,
        user.pk,
        role,
        key.key.prefix,
        by.pk,
    )
    return Provisioned(user, user_created, tenant, tenant_created, membership, key)


def reset_budget(tenant: Tenant, *, by: User) -> ResetResult:
    try:
        return billing.reset_budget(tenant, by=by)
    except billing.BillingError as exc:
        raise ValidationError({"non_field_errors": [str(exc)]})


def grant_credit(tenant: Tenant, *, by: User, amount: Decimal, note: str) -> Any:
    try:
        return billing.grant_credit(tenant, amount, by=by, note=note)
    except billing.BillingError as exc:
        raise field_error("amount", str(exc))
