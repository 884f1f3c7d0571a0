from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "apps.billing"
    label = "billing"

    def ready(self) -> None:
        import stripe
        from django.conf import settings

        # One place points the `stripe` library elsewhere (a local fake in tests or
        # development); dj-stripe uses the same module setting, so both move together.
        if getattr(settings, "STRIPE_API_BASE", ""):
            stripe.api_base = settings.STRIPE_API_BASE

        from apps.billing.services import on_tenant_created
        from apps.tenants.signals import tenant_created

        # Inside create_tenant's transaction: a tenant never exists without its budget.
        tenant_created.connect(on_tenant_created, dispatch_uid="billing.tenant_budget")
        # Connects the Stripe webhook receivers (dj-stripe signals) by importing them.
        from apps.billing import stripe_webhooks  # noqa: F401
