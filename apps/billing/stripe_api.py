"""Every call this project makes to Stripe (dj-stripe's own calls excepted).

Thin, typed functions over the `stripe` library: each passes the secret key from settings
and the pinned API version, creates with an idempotency key, and turns any Stripe failure
into `StripeApiError`, whose message is safe to log and to show staff (never a key).
The library's module-level `stripe.api_base` is the one dj-stripe uses too, so pointing
it elsewhere (settings.STRIPE_API_BASE, apps/billing/apps.py) moves both together.

Callers decide what an idempotency key means: `idempotency_key(action, *parts)` makes a
stable one from the parts that define "the same request" (Stripe remembers keys for at
least 24 hours and refuses a reused key with other parameters).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import re
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import stripe
from django.conf import settings

logger = logging.getLogger(__name__)

# What a secret looks like in text: redacted from any message we pass on.
_SECRET_RE = re.compile(r"\b(sk|rk|whsec)_[A-Za-z0-9_*]+")


class StripeApiError(Exception):
    """A Stripe call failed. `str(exc)` is safe to log and to show staff.

    `code` is Stripe's error code (e.g. "resource_missing"), `http_status` the status (None
    when Stripe was not reached), `kind` the library's error class name."""

    def __init__(
        self, message: str, *, code: str = "", http_status: int | None = None, kind: str = ""
    ) -> None:
        super().__init__(message)
        self.code = code
        self.http_status = http_status
        self.kind = kind


class NotFound(StripeApiError):
    """The object does not exist in Stripe (code resource_missing)."""


class NotConfigured(StripeApiError):
    """No secret key is set for the current mode: payments are off."""


def secret_key() -> str:
    live = bool(getattr(settings, "STRIPE_LIVE_MODE", False))
    name = "STRIPE_LIVE_SECRET_KEY" if live else "STRIPE_TEST_SECRET_KEY"
    return str(getattr(settings, name, "") or "")


def is_configured() -> bool:
    return bool(secret_key())


def idempotency_key(action: str, *parts: Any) -> str:
    """A stable key for "the same request": the action and a digest of its defining parts."""
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()[:32]
    return f"cf-{action}-{digest}"


def _options(key: str | None = None) -> dict[str, Any]:
    api_key = secret_key()
    if not api_key:
        raise NotConfigured("Stripe is not configured (no secret key for this mode).")
    options: dict[str, Any] = {"api_key": api_key, "stripe_version": settings.STRIPE_API_VERSION}
    if key is not None:
        options["idempotency_key"] = key
    return options


def _create_key(key: str | None) -> str:
    # A create without a caller's key still gets one: the library's retries reuse it.
    return key or f"cf-{uuid.uuid4()}"


def safe_message(text: str) -> str:
    return _SECRET_RE.sub(lambda m: f"{m.group(1)}_…", text)


@contextlib.contextmanager
def _calling(action: str) -> Iterator[None]:
    try:
        yield
    except stripe.StripeError as exc:
        code = str(getattr(exc, "code", "") or "")
        status = exc.http_status
        if isinstance(exc, stripe.AuthenticationError):
            detail = "Stripe rejected the API key"  # its message would quote the key's end
        elif isinstance(exc, stripe.APIConnectionError):
            detail = "Stripe could not be reached"
        else:
            detail = safe_message(exc.user_message or type(exc).__name__)
        message = f"{action}: {detail}"
        logger.warning(
            "stripe.call_failed action=%s kind=%s code=%s status=%s request=%s",
            action,
            type(exc).__name__,
            code,
            status,
            exc.request_id,
        )
        error_type = NotFound if code == "resource_missing" else StripeApiError
        # `from None`: the library's exception text may quote part of the key.
        raise error_type(message, code=code, http_status=status, kind=type(exc).__name__) from None


def _all(listing: Any) -> list[Any]:
    return list(listing.auto_paging_iter())


# --- customers ----------------------------------------------------------------------------


def create_customer(
    *, email: str, name: str = "", metadata: dict[str, str], idempotency_key: str | None = None
) -> stripe.Customer:
    with _calling("create customer"):
        return stripe.Customer.create(
            email=email,
            name=name or None,
            metadata=metadata,
            **_options(_create_key(idempotency_key)),
        )


def retrieve_customer(customer_id: str) -> stripe.Customer:
    with _calling("retrieve customer"):
        return stripe.Customer.retrieve(customer_id, **_options())


# --- checkout and the customer portal -------------------------------------------------------


def create_checkout_session(
    *,
    mode: str,
    line_items: list[dict[str, Any]],
    success_url: str,
    cancel_url: str,
    customer: str,
    client_reference_id: str,
    metadata: dict[str, str],
    subscription_data: dict[str, Any] | None = None,
    payment_intent_data: dict[str, Any] | None = None,
    idempotency_key: str | None = None,
) -> stripe.checkout.Session:
    params: dict[str, Any] = {
        "mode": mode,
        "line_items": line_items,
        "success_url": success_url,
        "cancel_url": cancel_url,
        "customer": customer,
        "client_reference_id": client_reference_id,
        "metadata": metadata,
    }
    if subscription_data is not None:
        params["subscription_data"] = subscription_data
    if payment_intent_data is not None:
        params["payment_intent_data"] = payment_intent_data
    with _calling("create checkout session"):
        return stripe.checkout.Session.create(**params, **_options(_create_key(idempotency_key)))


def retrieve_checkout_session(session_id: str) -> stripe.checkout.Session:
    with _calling("retrieve checkout session"):
        return stripe.checkout.Session.retrieve(session_id, **_options())


def create_billing_portal_session(
    *, customer: str, return_url: str
) -> stripe.billing_portal.Session:
    with _calling("create billing portal session"):
        return stripe.billing_portal.Session.create(
            customer=customer, return_url=return_url, **_options(_create_key(None))
        )


# --- subscriptions and invoices ---------------------------------------------------------------


def retrieve_subscription(subscription_id: str) -> stripe.Subscription:
    with _calling("retrieve subscription"):
        return stripe.Subscription.retrieve(subscription_id, **_options())


def retrieve_invoice(invoice_id: str) -> stripe.Invoice:
    with _calling("retrieve invoice"):
        return stripe.Invoice.retrieve(invoice_id, **_options())


# --- products, prices, meters -----------------------------------------------------------------


def create_product(
    *,
    name: str,
    description: str,
    active: bool,
    metadata: dict[str, str],
    idempotency_key: str | None = None,
) -> stripe.Product:
    with _calling("create product"):
        return stripe.Product.create(
            name=name,
            # Stripe refuses an empty description; "" on update clears it.
            description=description or None,
            active=active,
            metadata=metadata,
            **_options(_create_key(idempotency_key)),
        )


def update_product(
    product_id: str,
    *,
    name: str | None = None,
    description: str | None = None,
    active: bool | None = None,
    metadata: dict[str, str] | None = None,
    default_price: str | None = None,
) -> stripe.Product:
    fields = {
        "name": name,
        "description": description,
        "active": active,
        "metadata": metadata,
        "default_price": default_price,
    }
    with _calling("update product"):
        return stripe.Product.modify(
            product_id, **{k: v for k, v in fields.items() if v is not None}, **_options()
        )


def retrieve_product(product_id: str) -> stripe.Product:
    with _calling("retrieve product"):
        return stripe.Product.retrieve(product_id, **_options())


def list_products(*, active: bool | None = None) -> list[stripe.Product]:
    params: dict[str, Any] = {"limit": 100}
    if active is not None:
        params["active"] = active
    with _calling("list products"):
        return _all(stripe.Product.list(**params, **_options()))


def create_price(
    *,
    product: str,
    currency: str,
    unit_amount: int | None = None,
    unit_amount_decimal: Decimal | None = None,
    recurring: dict[str, Any] | None = None,
    metadata: dict[str, str] | None = None,
    idempotency_key: str | None = None,
) -> stripe.Price:
    """A price in the currency's minor unit (cents): `unit_amount` (integer) or
    `unit_amount_decimal` (fractions of a cent, e.g. a metered micro-USD)."""
    if (unit_amount is None) == (unit_amount_decimal is None):
        raise ValueError("give exactly one of unit_amount and unit_amount_decimal")
    params: dict[str, Any] = {"product": product, "currency": currency.lower()}
    if unit_amount is not None:
        params["unit_amount"] = unit_amount
    else:
        params["unit_amount_decimal"] = str(unit_amount_decimal)
    if recurring is not None:
        params["recurring"] = recurring
    if metadata:
        params["metadata"] = metadata
    with _calling("create price"):
        return stripe.Price.create(**params, **_options(_create_key(idempotency_key)))


def update_price(
    price_id: str, *, active: bool | None = None, metadata: dict[str, str] | None = None
) -> stripe.Price:
    """Prices are immutable in Stripe except for these: a new amount is a new price."""
    fields = {"active": active, "metadata": metadata}
    with _calling("update price"):
        return stripe.Price.modify(
            price_id, **{k: v for k, v in fields.items() if v is not None}, **_options()
        )


def retrieve_price(price_id: str) -> stripe.Price:
    with _calling("retrieve price"):
        return stripe.Price.retrieve(price_id, **_options())


def list_prices(*, product: str | None = None, active: bool | None = None) -> list[stripe.Price]:
    params: dict[str, Any] = {"limit": 100}
    if product is not None:
        params["product"] = product
    if active is not None:
        params["active"] = active
    with _calling("list prices"):
        return _all(stripe.Price.list(**params, **_options()))


def create_meter(
    *,
    display_name: str,
    event_name: str,
    customer_key: str = "stripe_customer_id",
    value_key: str = "value",
    idempotency_key: str | None = None,
) -> stripe.billing.Meter:
    """A meter that sums event values per customer (mapped by Stripe customer id)."""
    with _calling("create meter"):
        return stripe.billing.Meter.create(
            display_name=display_name,
            event_name=event_name,
            default_aggregation={"formula": "sum"},
            customer_mapping={"event_payload_key": customer_key, "type": "by_id"},
            value_settings={"event_payload_key": value_key},
            **_options(_create_key(idempotency_key)),
        )


def list_meters(*, status: str | None = "active") -> list[stripe.billing.Meter]:
    params: dict[str, Any] = {"limit": 100}
    if status is not None:
        params["status"] = status
    with _calling("list meters"):
        return _all(stripe.billing.Meter.list(**params, **_options()))


def create_meter_event(
    *, event_name: str, stripe_customer_id: str, value: int, identifier: str, timestamp: int
) -> bool:
    """Report `value` units (overage: 1 unit = 1 micro-USD, an integer) for a customer.

    Idempotent by `identifier`: the request's idempotency key is derived from it, and Stripe
    also refuses an identifier it already has (for at least 24 hours). Returns True when
    Stripe recorded a new event, False when it already had this one (not counted again)."""
    if value < 0 or int(value) != value:
        raise ValueError("a meter event value is a non-negative integer")
    try:
        with _calling("create meter event"):
            created = stripe.billing.MeterEvent.create(
                event_name=event_name,
                payload={"stripe_customer_id": stripe_customer_id, "value": str(int(value))},
                identifier=identifier,
                timestamp=timestamp,
                **_options(idempotency_key("meter-event", identifier)),
            )
    except StripeApiError as exc:
        text = str(exc).lower()
        if exc.code == "resource_already_exists" or ("identifier" in text and "already" in text):
            logger.info("stripe.meter_event_duplicate identifier=%s", identifier)
            return False
        raise
    response = created.last_response
    if response is not None and response.headers.get("Idempotent-Replayed") == "true":
        logger.info("stripe.meter_event_replayed identifier=%s", identifier)
        return False
    return True


def to_cents(amount: Decimal) -> int:
    """`amount` USD as Stripe's integer cents; ValueError unless it is whole cents."""
    cents = amount * 100
    if cents != cents.to_integral_value():
        raise ValueError(f"{amount} is not a whole number of cents.")
    return int(cents)
