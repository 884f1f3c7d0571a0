"""Tenants (a schema each), their domains and who belongs to them. Public schema."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone
from django_tenants.models import DomainMixin, TenantMixin


def start_of_month() -> datetime:
    """The default billing anchor: the 1st of the current month, 00:00 UTC."""
    now = timezone.now()
    return now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


class Tenant(TenantMixin):
    class Kind(models.TextChoices):
        PLATFORM = "platform", "Platform (public schema)"
        TEMPLATE = "template", "Template (cloned for new tenants)"
        CUSTOMER = "customer", "Customer"

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        SUSPENDED = "suspended", "Suspended"

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=50, unique=True)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.CUSTOMER)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    product = models.ForeignKey(
        "catalog.Product", on_delete=models.PROTECT, null=True, blank=True, related_name="tenants"
    )
    billing_anchor = models.DateTimeField(default=start_of_month)
    rpm_limit = models.PositiveIntegerField(null=True, blank=True, help_text="Overrides the plan.")
    tpm_limit = models.PositiveIntegerField(null=True, blank=True, help_text="Overrides the plan.")
    created_at = models.DateTimeField(auto_now_add=True)

    # Schemas are created explicitly by services.create_tenant, never as a save() side effect.
    auto_create_schema = False
    auto_drop_schema = True

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name

    def create_schema(
        self, check_if_exists: bool = False, sync_schema: bool = True, verbosity: int = 1
    ) -> bool:
        """Clone the template schema (apps/tenants/clone.py: the clone functions installed
        once, no fake migrate); without a template, django-tenants runs the migrations."""
        from django_tenants.postgresql_backend.base import _check_schema_name
        from django_tenants.utils import get_creation_fakes_migrations, schema_exists

        from apps.tenants.clone import clone_schema

        _check_schema_name(self.schema_name)  # the same safety check as django-tenants'
        base = self.get_base_schema() if get_creation_fakes_migrations() else False
        if not (sync_schema and base and schema_exists(base)):
            return super().create_schema(check_if_exists, sync_schema, verbosity)
        if check_if_exists and schema_exists(self.schema_name):
            return False
        clone_schema(base, self.schema_name)
        return True

    def delete(self, force_drop: bool = False, *args: Any, **kwargs: Any) -> Any:
        # One transaction: the schema is never dropped while the row (and what points at
        # it) stays behind, nor the reverse.
        with transaction.atomic():
            return super().delete(force_drop, *args, **kwargs)

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE

    @property
    def effective_rpm_limit(self) -> int | None:
        if self.rpm_limit is not None:
            return self.rpm_limit
        return self.product.rpm_limit if self.product else None

    @property
    def effective_tpm_limit(self) -> int | None:
        if self.tpm_limit is not None:
            return self.tpm_limit
        return self.product.tpm_limit if self.product else None


class Domain(DomainMixin):
    class Meta:
        ordering = ("domain",)


class Membership(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner", "Owner"
        ADMIN = "admin", "Admin"
        MEMBER = "member", "Member"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=("user", "tenant"), name="membership_unique_user_tenant")
        ]
        ordering = ("tenant", "user")

    def __str__(self) -> str:
        return f"{self.user} in {self.tenant} ({self.role})"

    @property
    def is_admin(self) -> bool:
        return self.role in (self.Role.OWNER, self.Role.ADMIN)
