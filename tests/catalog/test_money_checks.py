"""The database refuses negative prices and markups, whoever writes them."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from django.db import IntegrityError, connection, transaction

from apps.catalog.models import ModelPrice, Product
from tests.support import factories

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "column", ["input_per_mtok", "output_per_mtok", "cached_input_per_mtok", "cache_write_per_mtok"]
)
def test_a_negative_price_is_refused(column: str) -> None:
    route = factories.route(price=None)
    fields = {
        "input_per_mtok": D(1),
        "output_per_mtok": D(1),
        "cached_input_per_mtok": D(1),
        "cache_write_per_mtok": D(1),
    }
    fields[column] = D("-0.01")
    with pytest.raises(IntegrityError, match="prices_not_negative"), transaction.atomic():
        ModelPrice.objects.create(route=route, **fields)
    assert not ModelPrice.objects.filter(route=route).exists()


def test_a_price_period_that_ends_before_it_starts_is_refused() -> None:
    route = factories.route()
    price = ModelPrice.objects.get(route=route)
    with pytest.raises(IntegrityError, match="period_not_empty"), transaction.atomic():
        ModelPrice.objects.filter(pk=price.pk).update(effective_to=price.effective_from)


@pytest.mark.parametrize("column", ["markup_percent", "monthly_price", "monthly_budget"])
def test_a_negative_markup_or_plan_amount_is_refused(column: str) -> None:
    product = factories.product()
    # Raw SQL: the database itself refuses, not a form validator.
    with pytest.raises(IntegrityError, match="money_not_negative"), transaction.atomic():
        with connection.cursor() as cur:
            cur.execute(
                f"UPDATE public.catalog_product SET {column} = -1 WHERE id = %s", [product.pk]
            )
    product.refresh_from_db()
    assert getattr(product, column) >= 0
    # Zero stays allowed (a free plan, no markup).
    Product.objects.filter(pk=product.pk).update(**{column: D(0)})
