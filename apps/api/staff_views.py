"""Staff-only endpoints under /api/staff/."""

from __future__ import annotations

from decimal import Decimal

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import PermissionDenied
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from apps.api import serializers as s
from apps.api.permissions import (
    GRANT_CREDIT,
    RESET_BUDGET,
    IsStaff,
    StaffWithPermission,
    customer_tenant,
)
from apps.api.views import FIELD_ERRORS, SLUG, field_error
from apps.billing import services as billing
from apps.tenants.models import Tenant
from apps.tenants.services import (
    PlanOrCreditRequired,
    ProvisionError,
    TenantError,
    create_tenant,
    provision,
    set_status,
)


class StaffAPIView(GenericAPIView):
    permission_classes = [IsAuthenticated, IsStaff]


def require_grant_permission(request: Request, credit: Decimal | None) -> None:
    """An initial credit is a credit grant: it needs the same permission."""
    if credit and not request.user.has_perm(GRANT_CREDIT):
        raise PermissionDenied(StaffWithPermission.message)


@extend_schema(tags=["staff"])
class TenantCreateView(StaffAPIView):
    serializer_class = s.TenantCreateSerializer

    @extend_schema(
        summary="Create a customer tenant (schema, domain, budget, optional owner)",
        description="A customer tenant needs a product (plan) or an initial credit; a credit "
        "needs the billing.grant_credit permission.",
        responses={201: s.TenantSerializer, 400: FIELD_ERRORS},
    )
    def post(self, request: Request) -> Response:
        form = self.get_serializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        require_grant_permission(request, data.get("credit"))
        try:
            tenant = create_tenant(
                name=data["name"],
                slug=data.get("slug") or None,
                product=data.get("product"),
                owner=data.get("owner"),
                credit=data.get("credit"),
                created_by=request.user,
            )
        except PlanOrCreditRequired as exc:
            raise field_error(exc.field, str(exc))
        except TenantError as exc:
            raise field_error("slug", str(exc))
        return Response(s.TenantSerializer(tenant).data, status=status.HTTP_201_CREATED)


class _TenantStatusView(StaffAPIView):
    serializer_class = s.TenantSerializer
    new_status: str

    def post(self, request: Request, slug: str) -> Response:
        tenant = set_status(customer_tenant(slug), self.new_status)
        return Response(s.TenantSerializer(tenant).data)


@extend_schema(tags=["staff"], parameters=[SLUG], request=None, summary="Suspend a tenant")
class TenantSuspendView(_TenantStatusView):
    new_status = Tenant.Status.SUSPENDED


@extend_schema(tags=["staff"], parameters=[SLUG], request=None, summary="Reactivate a tenant")
class TenantActivateView(_TenantStatusView):
    new_status = Tenant.Status.ACTIVE


@extend_schema(tags=["staff"])
class ProvisionView(StaffAPIView):
    serializer_class = s.ProvisionSerializer

    @extend_schema(
        summary="Provision a user: user, membership and first key in one transaction",
        description="Creates the tenant too when tenant_name is given. The key's secret is "
        "in this response only.",
        responses={201: s.ProvisionedSerializer, 400: FIELD_ERRORS},
    )
    def post(self, request: Request) -> Response:
        form = self.get_serializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        require_grant_permission(request, data.get("credit"))
        try:
            result = provision(
                by=request.user,
                email=data["email"],
                name=data["name"],
                role=data["role"],
                tenant=data.get("tenant"),
                tenant_name=data.get("tenant_name") or None,
                product=data.get("product"),
                credit=data.get("credit"),
                key_name=data["key_name"],
            )
        except ProvisionError as exc:
            raise field_error(exc.field, str(exc))
        return Response(s.ProvisionedSerializer(result).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["staff"], parameters=[SLUG])
class ResetBudgetView(StaffAPIView):
    permission_classes = [IsAuthenticated, StaffWithPermission]
    required_permission = RESET_BUDGET
    serializer_class = s.ResetResultSerializer

    @extend_schema(
        summary="Close the tenant's budget period now and start a new one",
        request=None,
        responses={200: s.ResetResultSerializer, 400: FIELD_ERRORS},
    )
    def post(self, request: Request, slug: str) -> Response:
        try:
            result = billing.reset_budget(customer_tenant(slug), by=request.user)
        except billing.BillingError as exc:
            raise field_error("non_field_errors", str(exc))
        return Response(s.ResetResultSerializer(result).data)


@extend_schema(tags=["staff"], parameters=[SLUG])
class GrantCreditView(StaffAPIView):
    permission_classes = [IsAuthenticated, StaffWithPermission]
    required_permission = GRANT_CREDIT
    serializer_class = s.GrantCreditSerializer

    @extend_schema(
        summary="Grant prepaid credit to a tenant",
        responses={201: s.LedgerEntrySerializer, 400: FIELD_ERRORS},
    )
    def post(self, request: Request, slug: str) -> Response:
        tenant = customer_tenant(slug)
        form = self.get_serializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        try:
            entry = billing.grant_credit(tenant, data["amount"], by=request.user, note=data["note"])
        except billing.BillingError as exc:
            raise field_error("amount", str(exc))
        return Response(s.LedgerEntrySerializer(entry).data, status=status.HTTP_201_CREATED)
