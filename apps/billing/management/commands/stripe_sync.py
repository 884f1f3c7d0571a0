"""`manage.py stripe_sync push|pull [--product SLUG ...]`: the catalog to Stripe and back."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.billing import stripe_api, stripe_sync
from apps.catalog.models import Product


class Command(BaseCommand):
    help = "Push catalog products to Stripe, or pull their Stripe state back."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("direction", choices=["push", "pull"])
        parser.add_argument(
            "--product",
            action="append",
            dest="slugs",
            metavar="SLUG",
            help="Only this product (repeatable). Default: push every active product, pull all.",
        )

    def handle(self, *args: Any, direction: str, slugs: list[str] | None, **options: Any) -> None:
        if not stripe_api.is_configured():
            raise CommandError("Stripe is not configured: set STRIPE_TEST_SECRET_KEY (or live).")
        products = Product.objects.order_by("sort_order", "pk")
        if slugs:
            products = products.filter(slug__in=slugs)
            missing = set(slugs) - set(products.values_list("slug", flat=True))
            if missing:
                raise CommandError(f"No such product: {', '.join(sorted(missing))}")
        if direction == "push":
            self._push(list(products if slugs else products.filter(is_active=True)))
        else:
            self._pull(list(products) if slugs else None)

    def _push(self, products: list[Product]) -> None:
        failed = 0
        for product in products:
            try:
                result = stripe_sync.push(product)
            except (stripe_sync.SyncError, stripe_api.StripeApiError) as exc:
                failed += 1
                self.stderr.write(f"{product.name}: {exc}")
                continue
            self.stdout.write(result.message)
        if failed:
            raise CommandError(f"{failed} product(s) could not be pushed.")

    def _pull(self, products: list[Product] | None) -> None:
        try:
            report = stripe_sync.pull(products)
        except stripe_api.StripeApiError as exc:
            raise CommandError(str(exc)) from None
        for line in report.updated:
            self.stdout.write(line)
        for line in report.missing:
            self.stderr.write(f"missing in Stripe: {line}")
        for line in report.unknown:
            self.stdout.write(f"not ours (not imported): {line}")
        for line in report.problems:
            self.stderr.write(f"not applied: {line}")
