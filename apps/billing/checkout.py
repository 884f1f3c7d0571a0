"""Starting payments: Stripe Checkout for a plan or a credit top-up, and the customer portal.

The tenant (not the user) is the Stripe customer: one customer per tenant, created on the
first payment and kept on its BillingAccount. Nothing here changes a plan or a budget:
that happens when Stripe's webhooks arrive (apps/billing/stripe_webhooks.py). Every error
a page may show is a `CheckoutError` with a message fit for the customer.
"""

from __future__ import annotations

import logging
import re
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction

from apps.billing import stripe_api
from apps.billing.models import CENT, BillingAccount

if TYPE_CHECKING:
    from apps.accounts.models import User
    from apps.catalog.models import Product
    from apps.tenants.models import Tenant

logger = logging.getLogger(__name__)

TOPUP_PRODUCT_NAME = "CloudFreedom credit"
AMOUNT_RE = re.compile(r"\d{1,9}(\.\d+)?")


class PaymentsUnavailable(Exception):
    """Online payment is not configured here (no Stripe secret key)."""


class CheckoutError(ValueError):
    """The payment cannot start; the message is safe to show the customer."""


def payments_enabled() -> bool:
    return stripe_api.is_configured()


def _require_payments() -> None:
    if not payments_enabled():
        raise PaymentsUnavailable("Online payment is not available yet.")


def _stripe_failed(exc: stripe_api.StripeApiError, action: str) -> CheckoutError:
    if isinstance(exc, stripe_api.NotConfigured):
        raise PaymentsUnavailable("Online payment is not available yet.") from exc
    logger.error("billing.checkout_failed action=%s error=%s", action, exc)
    return CheckoutError("The payment provider did not answer as expected. Please try again.")


def ensure_customer(tenant: Tenant, *, user: User) -> str:
    """The tenant's Stripe customer id, creating the customer the first time.

    The BillingAccount row stays locked while Stripe creates the customer, so two
    concurrent first payments make one customer. (Only that row: webhook handlers lock the
    budget first, then this row, and wait at most one Stripe call.)"""
    with transaction.atomic():
        account = BillingAccount.objects.lock_for(tenant)
        if account.stripe_customer_id:
            return account.stripe_customer_id
        customer = stripe_api.create_customer(
            email=user.email,
            name=tenant.name,
            metadata={"tenant_id": str(tenant.pk), "tenant_slug": tenant.slug},
            idempotency_key=stripe_api.idempotency_key(
                "customer", tenant.pk, user.email, tenant.name
            ),
        )
        account.stripe_customer_id = customer.id
        account.save(update_fields=["stripe_customer_id", "updated_at"])
    logger.info("billing.customer_created tenant=%s customer=%s", tenant.pk, customer.id)
    return str(customer.id)


def start_subscription(
    tenant: Tenant, product: Product, *, user: User, success_url: str, cancel_url: str
) -> str:
    """A Stripe Checkout URL where the tenant subscribes to `product`."""
    _require_payments()
    if not product.is_on_sale:
        raise CheckoutError("This plan is not available.")
    if product.is_free:
        raise CheckoutError("This plan is free: there is nothing to pay.")
    if not product.stripe_price_id:
        raise CheckoutError("This plan is not on sale yet.")
    account = BillingAccount.objects.filter(tenant=tenant).first()
    if account is not None and account.is_subscribed:
        raise CheckoutError(
            "This workspace already has a subscription. Use “Manage billing” to change "
            "or cancel it."
        )
    line_items: list[dict[str, Any]] = [{"price": product.stripe_price_id, "quantity": 1}]
    if product.overage_cap > 0 and product.stripe_overage_price_id:
        # Metered: Stripe bills what the meter reports; Checkout refuses a quantity.
        line_items.append({"price": product.stripe_overage_price_id})
    metadata = {"tenant_id": str(tenant.pk), "kind": "subscription", "product_id": str(product.pk)}
    try:
        customer = ensure_customer(tenant, user=user)
        session = stripe_api.create_checkout_session(
            mode="subscription",
            line_items=line_items,
            success_url=success_url,
            cancel_url=cancel_url,
            customer=customer,
            client_reference_id=str(tenant.pk),
            metadata=metadata,
            subscription_data={
                "metadata": {"tenant_id": str(tenant.pk), "product_id": str(product.pk)}
            },
        )
    except stripe_api.StripeApiError as exc:
        raise _stripe_failed(exc, "subscription") from None
    logger.info(
        "billing.checkout_started tenant=%s kind=subscription product=%s session=%s",
        tenant.pk,
        product.pk,
        session.id,
    )
    return str(session.url)


def topup_amount(value: Any) -> Decimal:
    """A top-up amount in USD, validated: at most two decimals, within the bounds."""
    text = str(value).strip()
    # Plain digits only: "1e3" or "NaN" are valid Decimals but not what anyone typed.
    if not isinstance(value, Decimal) and not AMOUNT_RE.fullmatch(text):
        raise CheckoutError("Enter an amount in dollars, like 25 or 25.50.")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise CheckoutError("Enter an amount in dollars, like 25 or 25.50.") from None
    if not amount.is_finite():
        raise CheckoutError("Enter an amount in dollars, like 25 or 25.50.")
    if amount != amount.quantize(CENT):
        raise CheckoutError("Use at most two decimal places (whole cents).")
    low = Decimal(settings.BILLING_TOPUP_MIN)
    high = Decimal(settings.BILLING_TOPUP_MAX)
    if amount < low or amount > high:
        raise CheckoutError(f"Choose an amount between ${low:,.2f} and ${high:,.2f}.")
    return amount.quantize(CENT)


def start_topup(
    tenant: Tenant, amount: Decimal, *, user: User, success_url: str, cancel_url: str
) -> str:
    """A Stripe Checkout URL where the tenant buys `amount` USD of prepaid credit."""
    _require_payments()
    amount = topup_amount(amount)
    cents = stripe_api.to_cents(amount)
    metadata = {"kind": "topup", "tenant_id": str(tenant.pk), "amount": f"{amount:.2f}"}
    try:
        customer = ensure_customer(tenant, user=user)
        session = stripe_api.create_checkout_session(
            mode="payment",
            line_items=[
                {
                    "price_data": {
                        "currency": "usd",
                        "unit_amount": cents,
                        "product_data": {"name": TOPUP_PRODUCT_NAME},
                    },
                    "quantity": 1,
                }
            ],
            success_url=success_url,
            cancel_url=cancel_url,
            customer=customer,
            client_reference_id=str(tenant.pk),
            metadata=metadata,
            payment_intent_data={"metadata": metadata, "description": TOPUP_PRODUCT_NAME},
        )
    except stripe_api.StripeApiError as exc:
        raise _stripe_failed(exc, "topup") from None
    logger.info(
        "billing.checkout_started tenant=%s kind=topup amount=%s session=%s",
        tenant.pk,
        amount,
        session.id,
    )
    return str(session.url)


def billing_portal_url(tenant: Tenant, *, return_url: str) -> str:
    """Stripe's customer portal for the tenant (card, invoices, plan change, cancel)."""
    _require_payments()
    account = BillingAccount.objects.filter(tenant=tenant).first()
    if account is None or not account.stripe_customer_id:
        raise CheckoutError(
            "This workspace has no billing account yet: subscribe or buy credit first."
        )
    try:
        session = stripe_api.create_billing_portal_session(
            customer=account.stripe_customer_id, return_url=return_url
        )
    except stripe_api.StripeApiError as exc:
        raise _stripe_failed(exc, "portal") from None
    return str(session.url)
