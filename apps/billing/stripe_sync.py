"""Catalog products to Stripe and back (staff run these from the admin or
`manage.py stripe_sync push|pull`).

push(product): the Stripe Product (our id and slug in its metadata), a recurring monthly
Price for monthly_price and, for a plan with overage, the overage Meter (one per account,
created once) and a metered Price on it. Stripe prices are immutable: a new amount is a
new price, made the product's default, and the old one is archived. Each step stores its
id at once (through the catalog's service) and a repeated push adopts what Stripe already
has, so a push that fails half-way is finished by the next one without duplicates.

pull(): Stripe's products that carry our metadata update the catalog's Stripe ids and,
where Stripe differs, name, description and monthly price; Stripe products that are not
ours are listed, never imported.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError

from apps.billing import stripe_api
from apps.billing.models import CENT
from apps.catalog.models import Product
from apps.catalog.services import apply_stripe_listing, set_stripe_ids

logger = logging.getLogger(__name__)

METADATA_ID = "cloudfreedom_product_id"
METADATA_SLUG = "cloudfreedom_slug"
# The overage meter counts micro-USD (1e-6 USD); its price is 0.0001 cents per unit.
METERED_UNIT_CENTS = Decimal("0.0001")
METER_DISPLAY_NAME = "CloudFreedom overage (micro-USD)"


class SyncError(Exception):
    """A product cannot be pushed as it is; the message says why."""


@dataclass
class PushResult:
    product: Product
    actions: list[str] = field(default_factory=list)

    @property
    def message(self) -> str:
        return f"{self.product.name}: " + ("; ".join(self.actions) or "already up to date")


@dataclass
class PullReport:
    updated: list[str] = field(default_factory=list)  # one line per product we matched
    missing: list[str] = field(default_factory=list)  # ours, with an id Stripe lacks
    unknown: list[str] = field(default_factory=list)  # Stripe's, not ours
    problems: list[str] = field(default_factory=list)


def _metadata(product: Product) -> dict[str, str]:
    return {METADATA_ID: str(product.pk), METADATA_SLUG: product.slug}


def _d(obj: Any) -> dict[str, Any]:
    """A Stripe object as plain dicts (stripe 15's objects are not mappings)."""
    return obj.to_dict() if hasattr(obj, "to_dict") else dict(obj)


def _get(obj: Any, *path: str) -> Any:
    for key in path:
        if obj is None:
            return None
        obj = obj.get(key)
    return obj


def _retrieve_price(price_id: str) -> Any:
    if not price_id:
        return None
    try:
        return _d(stripe_api.retrieve_price(price_id))
    except stripe_api.NotFound:
        return None


# --- push -------------------------------------------------------------------------------


def push(product: Product) -> PushResult:
    """Create or update `product` in Stripe; raises SyncError or StripeApiError."""
    result = PushResult(product)
    product_id = _push_product(product, result.actions)
    _push_plan_price(product, product_id, result.actions)
    _push_overage_price(product, product_id, result.actions)
    logger.info(
        "stripe.product_pushed product=%s stripe=%s actions=%d",
        product.pk,
        product_id,
        len(result.actions),
    )
    return result


def _find_ours(product: Product) -> Any:
    for candidate in map(_d, stripe_api.list_products()):
        if _get(candidate, "metadata", METADATA_ID) == str(product.pk):
            return candidate
    return None


def _push_product(product: Product, actions: list[str]) -> str:
    found = None
    if product.stripe_product_id:
        try:
            found = _d(stripe_api.retrieve_product(product.stripe_product_id))
        except stripe_api.NotFound:
            actions.append(f"product {product.stripe_product_id} is gone from Stripe")
    if found is None:
        found = _find_ours(product)
        if found is not None:
            actions.append(f"adopted product {found['id']}")
    metadata = _metadata(product)
    if found is None:
        found = _d(
            stripe_api.create_product(
                name=product.name,
                description=product.description,
                active=product.is_active,
                metadata=metadata,
                idempotency_key=stripe_api.idempotency_key(
                    "product", product.pk, product.slug, product.name
                ),
            )
        )
        actions.append(f"created product {found['id']}")
    else:
        current = (
            found.get("name"),
            found.get("description") or "",
            bool(found.get("active")),
            {k: _get(found, "metadata", k) for k in metadata},
        )
        wanted = (product.name, product.description, product.is_active, metadata)
        if current != wanted:
            stripe_api.update_product(
                found["id"],
                name=product.name,
                description=product.description,  # "" clears it
                active=product.is_active,
                metadata=metadata,
            )
            actions.append(f"updated product {found['id']}")
    set_stripe_ids(product, stripe_product_id=found["id"])
    return str(found["id"])


def _is_plan_price(price: Any, product_id: str, cents: int, currency: str) -> bool:
    recurring = price.get("recurring") or {}
    return (
        bool(price.get("active"))
        and price.get("product") == product_id
        and price.get("unit_amount") == cents
        and price.get("currency") == currency
        and recurring.get("interval") == "month"
        and recurring.get("interval_count", 1) == 1
        and recurring.get("usage_type", "licensed") == "licensed"
    )


def _is_overage_price(price: Any, product_id: str, meter_id: str) -> bool:
    recurring = price.get("recurring") or {}
    return (
        bool(price.get("active"))
        and price.get("product") == product_id
        and price.get("currency") == "usd"
        and recurring.get("interval") == "month"
        and recurring.get("usage_type") == "metered"
        and recurring.get("meter") == meter_id
        and Decimal(str(price.get("unit_amount_decimal") or "0")) == METERED_UNIT_CENTS
    )


def _archive(price: Any, actions: list[str], what: str) -> None:
    if price is not None and price.get("active"):
        stripe_api.update_price(price["id"], active=False)
        actions.append(f"archived old {what} {price['id']}")


def _push_plan_price(product: Product, product_id: str, actions: list[str]) -> None:
    current = _retrieve_price(product.stripe_price_id)
    if product.is_free:
        if current is not None and current.get("active"):
            stripe_api.update_product(product_id, default_price="")
            _archive(current, actions, "price")
        set_stripe_ids(product, stripe_price_id="")
        return
    try:
        cents = stripe_api.to_cents(product.monthly_price)
    except ValueError as exc:
        raise SyncError(str(exc)) from exc
    currency = product.currency.lower()
    if current is not None and _is_plan_price(current, product_id, cents, currency):
        return
    price = next(
        (
            p
            for p in map(_d, stripe_api.list_prices(product=product_id, active=True))
            if _is_plan_price(p, product_id, cents, currency)
        ),
        None,
    )
    if price is not None:
        actions.append(f"adopted price {price['id']}")
    else:
        price = _d(
            stripe_api.create_price(
                product=product_id,
                currency=currency,
                unit_amount=cents,
                recurring={"interval": "month"},
                metadata=_metadata(product),
                idempotency_key=stripe_api.idempotency_key(
                    "price", product_id, cents, currency, current["id"] if current else ""
                ),
            )
        )
        actions.append(f"created price {price['id']} ({product.monthly_price} {currency}/month)")
    set_stripe_ids(product, stripe_price_id=price["id"])
    # The new price becomes the default first: Stripe refuses to archive a default price.
    stripe_api.update_product(product_id, default_price=price["id"])
    if current is not None and current["id"] != price["id"]:
        _archive(current, actions, "price")


def ensure_meter(actions: list[str]) -> str:
    """The account's overage meter (by event name), created once."""
    event_name = settings.STRIPE_OVERAGE_METER_EVENT
    for meter in map(_d, stripe_api.list_meters(status="active")):
        if meter.get("event_name") == event_name:
            return str(meter["id"])
    meter = _d(stripe_api.create_meter(display_name=METER_DISPLAY_NAME, event_name=event_name))
    actions.append(f"created meter {meter['id']} ({event_name})")
    return str(meter["id"])


def _push_overage_price(product: Product, product_id: str, actions: list[str]) -> None:
    current = _retrieve_price(product.stripe_overage_price_id)
    if product.overage_cap <= 0:
        _archive(current, actions, "overage price")
        set_stripe_ids(product, stripe_overage_price_id="")
        return
    if product.currency.lower() != "usd":
        raise SyncError("Overage is metered in micro-USD: the plan's currency must be usd.")
    meter_id = ensure_meter(actions)
    if current is not None and _is_overage_price(current, product_id, meter_id):
        return
    price = next(
        (
            p
            for p in map(_d, stripe_api.list_prices(product=product_id, active=True))
            if _is_overage_price(p, product_id, meter_id)
        ),
        None,
    )
    if price is not None:
        actions.append(f"adopted overage price {price['id']}")
    else:
        price = _d(
            stripe_api.create_price(
                product=product_id,
                currency="usd",
                unit_amount_decimal=METERED_UNIT_CENTS,
                recurring={"interval": "month", "usage_type": "metered", "meter": meter_id},
                metadata={**_metadata(product), "kind": "overage"},
                idempotency_key=stripe_api.idempotency_key(
                    "overage-price", product_id, meter_id, current["id"] if current else ""
                ),
            )
        )
        actions.append(f"created overage price {price['id']}")
    set_stripe_ids(product, stripe_overage_price_id=price["id"])
    if current is not None and current["id"] != price["id"]:
        _archive(current, actions, "overage price")


# --- pull -------------------------------------------------------------------------------


def pull(products: Iterable[Product] | None = None) -> PullReport:
    """Update `products` (default: all) from Stripe; list Stripe products not ours."""
    report = PullReport()
    remote = [_d(p) for p in stripe_api.list_products()]
    by_metadata = {str(_get(p, "metadata", METADATA_ID)): p for p in remote}
    by_id = {p["id"]: p for p in remote}
    chosen = list(products) if products is not None else list(Product.objects.order_by("pk"))
    for product in chosen:
        found = by_metadata.get(str(product.pk)) or by_id.get(product.stripe_product_id)
        if found is None:
            if product.stripe_product_id:
                report.missing.append(
                    f"{product.name}: {product.stripe_product_id} is not in Stripe"
                )
            continue
        try:
            report.updated.append(_pull_one(product, found))
        except ValidationError as exc:
            product.refresh_from_db()
            report.problems.append(f"{product.name}: {'; '.join(exc.messages)}")
    ours = {str(pk) for pk in Product.objects.values_list("pk", flat=True)}
    known_ids = set(
        Product.objects.exclude(stripe_product_id="").values_list("stripe_product_id", flat=True)
    )
    for candidate in remote:
        if str(_get(candidate, "metadata", METADATA_ID)) in ours or candidate["id"] in known_ids:
            continue
        state = "active" if candidate.get("active") else "archived"
        report.unknown.append(f"{candidate['id']} “{candidate.get('name')}” ({state})")
    return report


def _pick(prices: list[Any], preferred: Iterable[str]) -> Any:
    by_id = {p["id"]: p for p in prices}
    for price_id in preferred:
        if price_id in by_id:
            return by_id[price_id]
    return max(prices, key=lambda p: p.get("created") or 0) if prices else None


def _pull_one(product: Product, found: Any) -> str:
    prices = [_d(p) for p in stripe_api.list_prices(product=found["id"], active=True)]
    monthly = [
        p
        for p in prices
        if (p.get("recurring") or {}).get("usage_type", "licensed") == "licensed"
        and (p.get("recurring") or {}).get("interval") == "month"
    ]
    metered = [p for p in prices if (p.get("recurring") or {}).get("usage_type") == "metered"]
    plan = _pick(monthly, [found.get("default_price") or "", product.stripe_price_id])
    overage = _pick(metered, [product.stripe_overage_price_id])
    notes: list[str] = []
    monthly_price = None
    if plan is not None and plan.get("currency") == product.currency.lower():
        monthly_price = (Decimal(plan.get("unit_amount") or 0) / 100).quantize(CENT)
    elif plan is None and not product.is_free:
        notes.append("no active monthly price in Stripe (not on sale)")
    changes = apply_stripe_listing(
        product,
        name=found.get("name"),
        description=found.get("description") or "",
        monthly_price=monthly_price,
    )
    ids = {
        "stripe_product_id": found["id"],
        "stripe_price_id": plan["id"] if plan is not None else "",
        "stripe_overage_price_id": overage["id"] if overage is not None else "",
    }
    for name, value in ids.items():
        if getattr(product, name) != value:
            changes.append(f"{name}: {getattr(product, name) or '—'} → {value or '—'}")
    set_stripe_ids(product, **ids)
    if not found.get("active"):
        notes.append("archived in Stripe")
    summary = "; ".join(changes + notes) or "no changes"
    return f"{product.name}: {summary}"
