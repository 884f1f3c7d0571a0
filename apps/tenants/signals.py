"""Sent inside create_tenant's transaction, so receivers (budgets, …) are part of it."""

from django.dispatch import Signal

tenant_created = Signal()  # kwargs: tenant
