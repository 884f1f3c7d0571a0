"""Who may use which tenant through the API.

Staff may act on any customer tenant; a tenant's owners and admins on their own tenants
only; a plain member gets 403 (they know the tenant exists); everyone else gets 404, so the
API never confirms that someone else's tenant exists.

Two kinds of power are model permissions rather than `is_staff` alone:
- reporting usage and asking budget questions (`accounts.ingest_usage`) is for a trusted
  service: a service credential (`manage.py create_service_token`) or staff granted it.
  Customers never hold it: their own usage reports would be usage they set the price of.
- money powers: granting credit (`billing.grant_credit`) and resetting a budget
  (`billing.reset_budget`) need staff status and the permission.
"""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from apps.accounts.services import INGEST_USAGE
from apps.tenants.models import Membership, Tenant

GRANT_CREDIT = "billing.grant_credit"
RESET_BUDGET = "billing.reset_budget"


class IsStaff(BasePermission):
    message = "Staff only."

    def has_permission(self, request: Request, view: Any) -> bool:
        return bool(request.user and request.user.is_authenticated and request.user.is_staff)


class IsTrustedService(BasePermission):
    """Holds the ingest power. Checked before the tenant is looked up, so the 403 is the
    same for every slug and tells a customer nothing about other tenants."""

    message = "Only a trusted service (a service credential, or staff granted it) may do this."

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.has_perm(INGEST_USAGE))


class StaffWithPermission(BasePermission):
    """Staff holding the view's `required_permission`."""

    message = "Your staff account lacks the permission for this action."

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        perm: str = view.required_permission
        return bool(user and user.is_authenticated and user.is_staff and user.has_perm(perm))


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
