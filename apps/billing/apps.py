from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "apps.billing"
    label = "billing"

    def ready(self) -> None:
        from apps.billing.services import on_tenant_created
        from apps.tenants.signals import tenant_created

        # Inside create_tenant's transaction: a tenant never exists without its budget.
        tenant_created.connect(on_tenant_created, dispatch_uid="billing.tenant_budget")
        # Connects the Stripe webhook receivers (dj-stripe signals) by importing them.
        from apps.billing import stripe_webhooks  # noqa: F401
