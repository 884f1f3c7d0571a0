"""Display formats for the portal's pages (display only: money is never rounded in storage)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django import template

from apps.billing.models import CENT

register = template.Library()

MICRO = Decimal("0.000001")


@register.filter
def usd(value: Decimal | int | str | None) -> str:
    """`$1,234.57`; amounts under a cent keep up to six places (`$0.000123`), because a
    single cheap request costs less than a cent and `$0.00` would hide it."""
    if value is None or value == "":
        return "—"
    amount = Decimal(value)
    sign = "-" if amount < 0 else ""
    amount = abs(amount)
    if 0 < amount < CENT:
        small = amount.quantize(MICRO, ROUND_HALF_UP)
        if small == 0:
            return f"{sign}<$0.000001"
        return f"{sign}${small.normalize():f}"
    return f"{sign}${amount.quantize(CENT, ROUND_HALF_UP):,}"
