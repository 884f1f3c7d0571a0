"""The business rules that turn Stripe's state into a tenant's plan and budget
(docs/billing.md, "Stripe").

Nothing here trusts a webhook's payload: each entry point re-fetches the object from Stripe
(apps/billing/stripe_api.py) and applies its current state, so deliveries that come twice,
concurrently or out of order converge on what Stripe holds now. Every effect has its own
idempotency key: a paid invoice grants once (ledger `period_grant` with the invoice id,
unique per tenant), a top-up credits once (`credit_purchase` with the payment intent id),
and a stopped subscription withdraws only what is left of its paid grants.

Lock order, as everywhere in billing: the tenant's budget row first, then its
BillingAccount. Stripe is called before any lock is taken.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone

from apps.billing import services, stripe_api
from apps.billing.models import ZERO, BillingAccount, LedgerEntry

if TYPE_CHECKING:
    from apps.catalog.models import Product
    from apps.tenants.models import Tenant

logger = logging.getLogger(__name__)

# The plan applies. past_due keeps it (and what was paid for this period) while Stripe
# retries the payment; no new period is granted until an invoice is paid.
PLAN_STATUSES = frozenset({"active", "trialing", "past_due"})
# The plan is removed and the rest of the period's paid grant is withdrawn.
STOP_STATUSES = frozenset({"unpaid", "canceled", "incomplete_expired", "paused"})
# "incomplete" (the first payment is pending) changes nothing but the BillingAccount.

# Invoices that start a billing cycle: their period becomes the tenant's budget period.
CYCLE_REASONS = frozenset({"subscription_create", "subscription_cycle", "subscription", ""})


# --- Reading Stripe objects --------------------------------------------------------------


def plain(obj: Any) -> dict[str, Any]:
    """A Stripe object (or a dict) as plain nested dicts."""
    if obj is None:
        return {}
    if hasattr(obj, "to_dict"):
        return obj.to_dict()
    return dict(obj)


def stripe_id(value: Any) -> str:
    """The id of an expandable field: a string, an expanded object, or nothing."""
    if not value:
        return ""
    if isinstance(value, str):
        return value
    return str(value.get("id") or "")


def _ts(value: Any) -> datetime | None:
    return datetime.fromtimestamp(int(value), tz=UTC) if value else None


def _dig(obj: dict[str, Any], *path: str) -> Any:
    for key in path:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)  # type: ignore[assignment]
    return obj


def invoice_subscription_id(invoice: dict[str, Any]) -> str:
    """The subscription an invoice bills (API 2025-03-31+: under `parent`; older: top level)."""
    return stripe_id(_dig(invoice, "parent", "subscription_details", "subscription")) or stripe_id(
        invoice.get("subscription")
    )


def _line_price(line: dict[str, Any]) -> tuple[str, str]:
    details = _dig(line, "pricing", "price_details") or {}
    price = details.get("price") or line.get("price")
    product = details.get("product") or (price.get("product") if isinstance(price, dict) else "")
    return stripe_id(price), stripe_id(product)


def _subscription_lines(invoice: dict[str, Any]) -> list[dict[str, Any]]:
    lines = _dig(invoice, "lines", "data") or []
    return [
        line
        for line in lines
        if _dig(line, "parent", "subscription_item_details") or line.get("subscription")
    ]


@dataclass(frozen=True)
class PlanItem:
    product: Product | None
    period_start: datetime | None
    period_end: datetime | None


def product_for_price(price_id: str, product_id: str) -> Product | None:
    """The catalog product a Stripe price or product stands for (the plan, never the
    metered overage price)."""
    from apps.catalog.models import Product

    if not price_id and not product_id:
        return None
    match = Q(stripe_price_id=price_id) if price_id else Q(pk__in=[])
    if product_id:
        match |= Q(stripe_product_id=product_id)
    candidates = Product.objects.filter(match)
    if price_id:
        candidates = candidates.exclude(stripe_overage_price_id=price_id)
    return candidates.order_by("-is_active", "pk").first()


def subscription_plan(sub: dict[str, Any]) -> PlanItem:
    """The subscription's plan item: the first item whose price is a catalog product."""
    items = _dig(sub, "items", "data") or []
    for item in items:
        price = item.get("price") or {}
        product = product_for_price(stripe_id(price), stripe_id(price.get("product")))
        if product is not None:
            return PlanItem(
                product,
                _ts(item.get("current_period_start") or sub.get("current_period_start")),
                _ts(item.get("current_period_end") or sub.get("current_period_end")),
            )
    first = items[0] if items else {}
    return PlanItem(
        None,
        _ts(first.get("current_period_start") or sub.get("current_period_start")),
        _ts(first.get("current_period_end") or sub.get("current_period_end")),
    )


def invoice_plan(invoice: dict[str, Any]) -> PlanItem:
    """The product and period the invoice's plan line pays for."""
    lines = _subscription_lines(invoice)
    for line in lines:
        product = product_for_price(*_line_price(line))
        if product is not None:
            period = line.get("period") or {}
            return PlanItem(product, _ts(period.get("start")), _ts(period.get("end")))
    return PlanItem(None, _ts(invoice.get("period_start")), _ts(invoice.get("period_end")))


# --- Which tenant ------------------------------------------------------------------------


def find_tenant(customer_id: str, *candidates: Any) -> Tenant | None:
    """The tenant a Stripe object belongs to: the BillingAccount holding its customer, else
    the first `tenant_id` candidate (metadata or client_reference_id we set ourselves) that
    names a customer tenant."""
    from apps.tenants.models import Tenant

    if customer_id:
        account = (
            BillingAccount.objects.select_related("tenant")
            .filter(stripe_customer_id=customer_id)
            .first()
        )
        if account is not None:
            return account.tenant
    for candidate in candidates:
        if candidate and str(candidate).isdigit():
            tenant = Tenant.objects.filter(pk=int(candidate), kind=Tenant.Kind.CUSTOMER).first()
            if tenant is not None:
                return tenant
    return None


def _locked_account(tenant: Tenant, customer_id: str) -> BillingAccount | None:
    """The tenant's BillingAccount, locked, linked to `customer_id` if it had no customer.
    None when it is linked to another customer: one tenant, one customer."""
    account = BillingAccount.objects.lock_for(tenant)
    if customer_id and not account.stripe_customer_id:
        account.stripe_customer_id = customer_id
        account.save(update_fields=["stripe_customer_id", "updated_at"])
    elif customer_id and account.stripe_customer_id != customer_id:
        logger.error(
            "stripe.customer_mismatch tenant=%s account_customer=%s event_customer=%s",
            tenant.pk,
            account.stripe_customer_id,
            customer_id,
        )
        return None
    return account


def grant_waits_for_invoice(tenant_id: int) -> bool:
    """True while the tenant's plan comes from a Stripe subscription: its period budget is
    granted by the paid invoice, not by the calendar reset."""
    return (
        BillingAccount.objects.filter(tenant_id=tenant_id, subscription_status__in=PLAN_STATUSES)
        .exclude(stripe_subscription_id="")
        .exists()
    )


def _free_plan() -> Product | None:
    from apps.catalog.services import signup_plan

    return signup_plan()


# --- Subscriptions -----------------------------------------------------------------------


def fetch_subscription(subscription_id: str) -> tuple[dict[str, Any] | None, datetime]:
    """The subscription as Stripe holds it now (None if Stripe has no such subscription),
    and when the fetch started: the state is at least that recent."""
    fetched_at = timezone.now()
    try:
        return plain(stripe_api.retrieve_subscription(subscription_id)), fetched_at
    except stripe_api.NotFound:
        logger.warning("stripe.subscription_missing id=%s", subscription_id)
        return None, fetched_at


def sync_subscription(subscription_id: str) -> BillingAccount | None:
    """Fetch the subscription from Stripe and apply its current state to its tenant."""
    sub, fetched_at = fetch_subscription(subscription_id)
    return apply_subscription(sub, fetched_at=fetched_at) if sub is not None else None


def apply_subscription(sub: dict[str, Any], *, fetched_at: datetime) -> BillingAccount | None:
    """Apply a subscription's state (as fetched at `fetched_at`) to its tenant: the
    BillingAccount, the plan, and for a stopped subscription the withdrawal of the rest of
    the period's paid grant. A snapshot older than the last one applied is skipped."""
    from apps.tenants.services import set_plan

    customer_id = stripe_id(sub.get("customer"))
    tenant = find_tenant(customer_id, _dig(sub, "metadata", "tenant_id"))
    if tenant is None:
        logger.warning("stripe.subscription_unplaced id=%s customer=%s", sub["id"], customer_id)
        return None
    status = sub.get("status") or ""
    plan = subscription_plan(sub)
    with transaction.atomic():
        services.ensure_tenant_budget(tenant)
        services.lock_tenant_budget(tenant.pk)
        account = _locked_account(tenant, customer_id)
        if account is None:
            return None
        same = account.stripe_subscription_id == sub["id"]
        if same and account.synced_at and fetched_at <= account.synced_at:
            logger.info("stripe.subscription_stale id=%s", sub["id"])
            return account
        if (
            not same
            and account.stripe_subscription_id
            and account.subscription_status not in STOP_STATUSES
            and status in STOP_STATUSES
        ):
            # An old subscription's ending must not end the one that replaced it.
            logger.info("stripe.subscription_superseded id=%s", sub["id"])
            return account
        account.stripe_subscription_id = sub["id"]
        account.subscription_status = status
        account.current_period_start = plan.period_start
        account.current_period_end = plan.period_end
        account.cancel_at_period_end = bool(sub.get("cancel_at_period_end"))
        account.synced_at = fetched_at
        account.save()
        if status in PLAN_STATUSES:
            if plan.product is None:
                logger.error("stripe.subscription_unknown_price id=%s", sub["id"])
            else:
                set_plan(tenant, plan.product)
        elif status in STOP_STATUSES:
            set_plan(tenant, _free_plan())
            withdraw_paid_grant(tenant, note=f"Subscription {sub['id']} {status}.")
    logger.info(
        "stripe.subscription_applied tenant=%s id=%s status=%s", tenant.pk, sub["id"], status
    )
    return account


# --- Grants ------------------------------------------------------------------------------


def _paid_grants_left(tenant_id: int, period: datetime) -> Decimal:
    """What the period's paid (invoice) grants added, less what was withdrawn already."""
    total = (
        LedgerEntry.objects.filter(tenant_id=tenant_id, period=period)
        .filter(
            Q(kind=LedgerEntry.Kind.PERIOD_GRANT, request_id__gt="")
            | Q(kind=LedgerEntry.Kind.GRANT_WITHDRAWN)
        )
        .aggregate(s=Sum("amount"))["s"]
    )
    return total or ZERO


def withdraw_paid_grant(tenant: Tenant, *, note: str) -> LedgerEntry | None:
    """Take back the unspent rest of the current period's paid grants (never below what is
    spent and reserved), so the tenant spends only its credit. Run inside a transaction;
    a second call finds nothing left and writes nothing."""

    with transaction.atomic():
        budget = services.lock_tenant_budget(tenant.pk)
        amount = min(budget.grant_unspent, _paid_grants_left(tenant.pk, budget.period_start))
        if amount <= 0:
            return None
        entry = services.change_grant(
            budget, -amount, kind=LedgerEntry.Kind.GRANT_WITHDRAWN, note=note
        )
    logger.info("budget.grant_withdrawn tenant=%s amount=%s", tenant.pk, amount)
    return entry


def apply_paid_invoice(invoice_id: str) -> LedgerEntry | None:
    """Grant the period a paid subscription invoice pays for, once per invoice.

    The subscription is synced first (the plan and the tenant link exist even when this
    event came before the subscription's). A cycle invoice whose period starts after the
    tenant's current budget period closes that period and starts one at the invoice's
    period, with the tenant's anchor moved to Stripe's cycle. The grant is the plan's
    period_limit (a mid-period plan change tops the period up to the new plan's limit)."""
    invoice = plain(stripe_api.retrieve_invoice(invoice_id))
    if invoice.get("status") != "paid":
        logger.info("stripe.invoice_not_paid id=%s status=%s", invoice_id, invoice.get("status"))
        return None
    subscription_id = invoice_subscription_id(invoice)
    if not subscription_id:
        return None  # not a subscription invoice: top-ups come through Checkout
    sync_subscription(subscription_id)
    customer_id = stripe_id(invoice.get("customer"))
    tenant = find_tenant(
        customer_id, _dig(invoice, "parent", "subscription_details", "metadata", "tenant_id")
    )
    if tenant is None:
        logger.warning("stripe.invoice_unplaced id=%s customer=%s", invoice_id, customer_id)
        return None
    plan = invoice_plan(invoice)
    if plan.product is None:
        # Stays visible: audit_ledger lists a paid invoice without its grant.
        logger.error("stripe.invoice_unknown_price id=%s tenant=%s", invoice_id, tenant.pk)
        return None
    return _grant_invoice(tenant, invoice, plan)


def _grant_invoice(tenant: Tenant, invoice: dict[str, Any], plan: PlanItem) -> LedgerEntry:
    from apps.tenants.services import set_billing_anchor

    assert plan.product is not None
    reason = invoice.get("billing_reason") or ""
    now = timezone.now()
    with transaction.atomic():
        budget = services.lock_tenant_budget(tenant.pk)
        prior = LedgerEntry.objects.filter(
            tenant_id=tenant.pk, kind=LedgerEntry.Kind.PERIOD_GRANT, request_id=invoice["id"]
        ).first()
        if prior is not None:  # the same invoice told again (another event, a resend)
            return prior
        status = (
            BillingAccount.objects.filter(tenant=tenant)
            .values_list("subscription_status", flat=True)
            .first()
        )
        stopped = status in STOP_STATUSES
        start, end = plan.period_start, plan.period_end
        # A stopped subscription's late invoice moves no period: there is no cycle to follow.
        if (
            reason in CYCLE_REASONS
            and start
            and end
            and start > budget.period_start
            and not stopped
        ):
            start = min(start, now)
            set_billing_anchor(tenant, plan.period_start)
            services.start_period(budget, start=start, next_reset=end, now=now)
            budget = services.lock_tenant_budget(tenant.pk)
        amount = plan.product.period_limit
        if reason not in CYCLE_REASONS:
            # A plan change mid-period: top the period up to the new plan's limit.
            paid = _paid_grants_left(tenant.pk, budget.period_start)
            amount = max(ZERO, amount - paid)
        entry = services.change_grant(
            budget,
            amount,
            kind=LedgerEntry.Kind.PERIOD_GRANT,
            reference=invoice["id"],
            note=f"Paid invoice ({plan.product.name}).",
        )
        if stopped:
            # Paid, but the subscription has ended since: the grant is recorded (the audit
            # matches every paid invoice) and its rest withdrawn at once.
            withdraw_paid_grant(tenant, note=f"Invoice {invoice['id']} paid after the end.")
    logger.info(
        "budget.period_granted tenant=%s invoice=%s amount=%s", tenant.pk, invoice["id"], amount
    )
    return entry


# --- Checkout ----------------------------------------------------------------------------


def topup_reference(session: dict[str, Any]) -> str:
    """The idempotency key of a top-up: its payment intent (the session when it has none)."""
    return stripe_id(session.get("payment_intent")) or session["id"]


def apply_checkout_session(session_id: str) -> None:
    """A completed Checkout: a subscription links the tenant to its customer and applies
    the subscription; a paid top-up buys credit once, for the amount Stripe charged."""
    session = plain(stripe_api.retrieve_checkout_session(session_id))
    customer_id = stripe_id(session.get("customer"))
    metadata = session.get("metadata") or {}
    tenant = find_tenant(customer_id, session.get("client_reference_id"), metadata.get("tenant_id"))
    if tenant is None:
        logger.warning("stripe.checkout_unplaced id=%s customer=%s", session_id, customer_id)
        return
    mode = session.get("mode")
    subscription_id = stripe_id(session.get("subscription")) if mode == "subscription" else ""
    # Every Stripe call before any lock: the webhook's transaction keeps the tenant's budget
    # row locked to its end, and the gateway's requests wait on that row.
    sub, fetched_at = fetch_subscription(subscription_id) if subscription_id else (None, None)
    if customer_id:
        with transaction.atomic():
            services.ensure_tenant_budget(tenant)
            services.lock_tenant_budget(tenant.pk)
            if _locked_account(tenant, customer_id) is None:
                return  # the tenant pays as another customer: logged, nothing applied
    if mode == "subscription":
        if sub is not None and fetched_at is not None:
            apply_subscription(sub, fetched_at=fetched_at)
    elif mode == "payment" and metadata.get("kind") == "topup":
        if session.get("payment_status") != "paid":
            logger.info("stripe.topup_not_paid id=%s", session_id)
            return
        if (session.get("currency") or "").lower() != "usd" or not session.get("amount_total"):
            logger.error("stripe.topup_unusable id=%s", session_id)
            return
        # Cents, as Stripe charged them; metadata never sets an amount.
        amount = Decimal(int(session["amount_total"])) / 100
        services.purchase_credit(
            tenant, amount, reference=topup_reference(session), note="Stripe top-up."
        )
