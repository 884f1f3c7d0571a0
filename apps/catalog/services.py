"""Catalog writes other apps need (the catalog owns products, routes and prices)."""

from __future__ import annotations

from decimal import Decimal

from apps.catalog.models import Product

STRIPE_ID_FIELDS = ("stripe_product_id", "stripe_price_id", "stripe_overage_price_id")


def set_stripe_ids(product: Product, **ids: str) -> Product:
    """Store the Stripe ids of a product (billing's Stripe sync calls this). Only the
    given fields change; "" clears one."""
    unknown = set(ids) - set(STRIPE_ID_FIELDS)
    if unknown:
        raise ValueError(f"not a Stripe id field: {sorted(unknown)}")
    changed = [name for name, value in ids.items() if getattr(product, name) != value]
    if changed:
        for name in changed:
            setattr(product, name, ids[name])
        product.save(update_fields=changed)
    return product


def apply_stripe_listing(
    product: Product,
    *,
    name: str | None = None,
    description: str | None = None,
    monthly_price: Decimal | None = None,
) -> list[str]:
    """Take what Stripe shows for a product where it differs (a pull from Stripe); returns
    the changes as "field: old → new" lines. A free plan stays free: a price for a
    signup-default plan is refused (its model check)."""
    values = {"name": name, "description": description, "monthly_price": monthly_price}
    changes: list[str] = []
    changed: list[str] = []
    for field, value in values.items():
        if value is None or getattr(product, field) == value:
            continue
        changes.append(f"{field}: {getattr(product, field)!s} → {value!s}")
        setattr(product, field, value)
        changed.append(field)
    if changed:
        product.full_clean(exclude=["slug", "allowed_models"], validate_unique=False)
        product.save(update_fields=changed)
    return changes


def signup_plan() -> Product | None:
    """The plan every self-service workspace starts on (a free plan staff mark "signup
    default"), or None. A workspace falls back to it when its subscription stops."""
    return Product.objects.filter(signup_default=True, is_active=True).first()
