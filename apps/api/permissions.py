"""Who may use which tenant through the API.

Staff may act on any customer tenant; a tenant's owners and admins on their own tenants
only; a plain member gets 403 (they know the tenant exists); everyone else gets 404, so the
API never confirms that someone else's tenant exists.
"""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from apps.tenants.models import Membership, Tenant


class IsStaff(BasePermission):
    message = "Staff only."

    def has_permission(self, request: Request, view: Any) -> bool:
        return bool(request.user and request.user.is_authenticated and request.user.is_staff)


def customer_tenant(slug: str) -> Tenant:
    tenant = (
        Tenant.objects.select_related("product")
        .filter(slug=slug, kind=Tenant.Kind.CUSTOMER)
        .first()
    )
    if tenant is None:
        raise NotFound("No such tenant.")
    return tenant


def tenant_for_admin(request: Request, slug: str) -> Tenant:
    """The tenant `slug` if the user may manage it through the API, else 404 or 403."""
    user = request.user
    if user.is_staff:
        return customer_tenant(slug)
    membership = (
        Membership.objects.select_related("tenant", "tenant__product")
        .filter(user=user, tenant__slug=slug, tenant__kind=Tenant.Kind.CUSTOMER)
        .first()
    )
    if membership is None:
        raise NotFound("No such tenant.")
    if not membership.is_admin:
        raise PermissionDenied("Only the tenant's owners and admins may use the API.")
    return membership.tenant
