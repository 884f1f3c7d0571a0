"""Plans in the Django admin, with Stripe push and pull as actions (apps/billing/stripe_sync.py).

The Stripe ids are read-only here: only a sync writes them, so they always name objects
that exist in Stripe."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.billing import stripe_api, stripe_sync
from apps.catalog.models import Product


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "slug",
        "monthly_price",
        "monthly_budget",
        "overage_cap",
        "is_public",
        "is_active",
        "signup_default",
        "on_sale",
        "sort_order",
    )
    list_filter = ("is_active", "is_public")
    search_fields = ("name", "slug", "stripe_product_id")
    ordering = ("sort_order", "name")
    prepopulated_fields = {"slug": ("name",)}
    filter_horizontal = ("allowed_models",)
    readonly_fields = ("stripe_product_id", "stripe_price_id", "stripe_overage_price_id")
    fieldsets = (
        (None, {"fields": ("name", "slug", "description", "is_active", "is_public", "sort_order")}),
        (
            "Price and limits",
            {
                "fields": (
                    "monthly_price",
                    "currency",
                    "monthly_budget",
                    "overage_cap",
                    "markup_percent",
                    "rpm_limit",
                    "tpm_limit",
                    "signup_default",
                )
            },
        ),
        ("Models", {"fields": ("allowed_models",)}),
        ("Stripe (set by Push to / Pull from Stripe)", {"fields": readonly_fields}),
    )
    actions = ("push_to_stripe", "pull_from_stripe")

    @admin.display(boolean=True, description="On sale")
    def on_sale(self, obj: Product) -> bool:
        """Has a Stripe price: customers can subscribe (when it is also public)."""
        return bool(obj.stripe_price_id)

    def _stripe_ready(self, request: HttpRequest) -> bool:
        if stripe_api.is_configured():
            return True
        self.message_user(
            request, "Stripe is not configured (no secret key for this mode).", messages.ERROR
        )
        return False

    @admin.action(description="Push to Stripe", permissions=["change"])
    def push_to_stripe(self, request: HttpRequest, queryset: QuerySet[Product]) -> None:
        if not self._stripe_ready(request):
            return
        for product in queryset.order_by("sort_order", "pk"):
            try:
                result = stripe_sync.push(product)
            except (stripe_sync.SyncError, stripe_api.StripeApiError) as exc:
                self.message_user(request, f"{product.name}: {exc}", messages.ERROR)
            else:
                self.message_user(request, result.message, messages.SUCCESS)

    @admin.action(description="Pull from Stripe", permissions=["change"])
    def pull_from_stripe(self, request: HttpRequest, queryset: QuerySet[Product]) -> None:
        if not self._stripe_ready(request):
            return
        try:
            report = stripe_sync.pull(queryset.order_by("sort_order", "pk"))
        except stripe_api.StripeApiError as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return
        for line in report.updated:
            self.message_user(request, line, messages.SUCCESS)
        for line in report.missing:
            self.message_user(request, f"Missing in Stripe: {line}", messages.WARNING)
        for line in report.problems:
            self.message_user(request, f"Not applied: {line}", messages.ERROR)
        if report.unknown:
            self.message_user(
                request,
                "In Stripe but not in the catalog (not imported): " + ", ".join(report.unknown),
                messages.INFO,
            )
