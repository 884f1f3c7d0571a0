"""Tenant-scoped endpoints under /api/tenants/{slug}/: staff, or the tenant's owners/admins."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.generics import GenericAPIView
from rest_framework.mixins import ListModelMixin
from rest_framework.request import Request
from rest_framework.response import Response

from apps.analytics.queries import usage_summary
from apps.api import serializers as s
from apps.api import services
from apps.api.permissions import tenant_for_admin
from apps.billing import services as billing
from apps.billing.models import LedgerEntry
from apps.keys.models import ApiKey
from apps.keys.services import revoke_api_key
from apps.tenants.models import Membership, Tenant

SLUG = OpenApiParameter("slug", OpenApiTypes.STR, OpenApiParameter.PATH, description="Tenant slug")
PREFIX = OpenApiParameter(
    "prefix", OpenApiTypes.STR, OpenApiParameter.PATH, description="Key prefix"
)
MEMBER_ID = OpenApiParameter("member_id", OpenApiTypes.INT, OpenApiParameter.PATH)
FIELD_ERRORS = OpenApiResponse(description="Field errors: {field: [message, …]}")


class TenantAPIView(GenericAPIView):
    # Resolves and authorises `self.tenant` once authentication has run. (A comment, not a
    # docstring: drf-spectacular would print a docstring as every endpoint's description.)

    tenant: Tenant

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        self.tenant = tenant_for_admin(request, kwargs["slug"])


@extend_schema(tags=["budget"], parameters=[SLUG])
class BudgetCheckView(TenantAPIView):
    serializer_class = s.BudgetCheckRequestSerializer

    @extend_schema(
        summary="Dry run: could this key afford this request now?",
        description="Nothing is reserved; the answer is what a reservation would decide now.",
        request=s.BudgetCheckRequestSerializer,
        responses={200: s.BudgetCheckSerializer, 400: FIELD_ERRORS},
    )
    def post(self, request: Request, slug: str) -> Response:
        form = self.get_serializer(data=request.data)
        form.is_valid(raise_exception=True)
        result = services.budget_check(self.tenant, **form.validated_data)
        return Response(s.BudgetCheckSerializer(result).data)


@extend_schema(tags=["budget"], parameters=[SLUG])
class BudgetView(TenantAPIView):
    serializer_class = s.BudgetStatusSerializer

    @extend_schema(summary="Every budget scope of the tenant")
    def get(self, request: Request, slug: str) -> Response:
        return Response(s.BudgetStatusSerializer(billing.budget_status(self.tenant)).data)


@extend_schema(tags=["usage"], parameters=[SLUG])
class UsageIngestView(TenantAPIView):
    serializer_class = s.UsageIngestSerializer

    @extend_schema(
        summary="Record (and charge) one request's usage; idempotent by request_id",
        description=(
            "For an external proxy. The cost comes from the price book. A repeated "
            "request_id changes nothing and answers 200 with the stored record."
        ),
        request=s.UsageIngestSerializer,
        responses={
            201: s.UsageRecordSerializer,
            200: OpenApiResponse(s.UsageRecordSerializer, description="A repeat: the record."),
            400: FIELD_ERRORS,
        },
    )
    def post(self, request: Request, slug: str) -> Response:
        form = self.get_serializer(data=request.data)
        form.is_valid(raise_exception=True)
        record, created = services.ingest_usage(self.tenant, form.validated_data)
        code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response(s.UsageRecordSerializer(record).data, status=code)


@extend_schema(tags=["usage"], parameters=[SLUG])
class UsageSummaryView(TenantAPIView):
    serializer_class = s.UsageSummarySerializer

    @extend_schema(
        summary="Usage and spend grouped by day, model, key or member",
        parameters=[s.UsageSummaryQuerySerializer],
        responses={200: s.UsageSummarySerializer, 400: FIELD_ERRORS},
    )
    def get(self, request: Request, slug: str) -> Response:
        query = s.UsageSummaryQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        args = query.validated_data
        rows = usage_summary(
            self.tenant, group_by=args["group_by"], start=args["start"], end=args["end"]
        )
        body = {"group_by": args["group_by"], "start": args["start"], "end": args["end"]}
        return Response(s.UsageSummarySerializer({**body, "rows": rows}).data)


@extend_schema(tags=["budget"], parameters=[SLUG])
class LedgerView(ListModelMixin, TenantAPIView):
    serializer_class = s.LedgerEntrySerializer

    def get_queryset(self) -> Any:
        return LedgerEntry.objects.filter(tenant_id=self.tenant.pk).order_by("-created_at", "-id")

    @extend_schema(summary="The tenant's ledger, newest first")
    def get(self, request: Request, slug: str) -> Response:
        return self.list(request)


@extend_schema(tags=["keys"], parameters=[SLUG])
class KeysView(ListModelMixin, TenantAPIView):
    serializer_class = s.ApiKeySerializer

    def get_queryset(self) -> Any:
        return ApiKey.objects.filter(tenant=self.tenant).order_by("-created_at", "-id")

    def get_serializer_context(self) -> dict[str, Any]:
        context = super().get_serializer_context()
        if hasattr(self, "tenant"):
            context["key_budgets"] = services.limits_by_owner(self.tenant)[1]
        return context

    @extend_schema(summary="The tenant's API keys (revoked ones included)")
    def get(self, request: Request, slug: str) -> Response:
        return self.list(request)

    @extend_schema(
        summary="Create a key; its secret is in this response only",
        request=s.ApiKeyCreateSerializer,
        responses={201: s.ApiKeyCreatedSerializer, 400: FIELD_ERRORS},
    )
    def post(self, request: Request, slug: str) -> Response:
        form = s.ApiKeyCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        new = services.create_key(self.tenant, by=request.user, data=form.validated_data)
        body = s.ApiKeyCreatedSerializer(new, context=self.get_serializer_context()).data
        return Response(body, status=status.HTTP_201_CREATED)


@extend_schema(tags=["keys"], parameters=[SLUG, PREFIX])
class KeyRevokeView(TenantAPIView):
    serializer_class = s.ApiKeySerializer

    @extend_schema(summary="Revoke a key (idempotent)", request=None)
    def post(self, request: Request, slug: str, prefix: str) -> Response:
        key = ApiKey.objects.filter(tenant=self.tenant, prefix=prefix).first()
        if key is None:
            raise NotFound("No such key.")
        return Response(s.ApiKeySerializer(revoke_api_key(key)).data)


@extend_schema(tags=["members"], parameters=[SLUG])
class MembersView(ListModelMixin, TenantAPIView):
    serializer_class = s.MemberSerializer

    def get_queryset(self) -> Any:
        return Membership.objects.filter(tenant=self.tenant).select_related("user").order_by("pk")

    def get_serializer_context(self) -> dict[str, Any]:
        context = super().get_serializer_context()
        if hasattr(self, "tenant"):
            context["member_budgets"] = services.limits_by_owner(self.tenant)[0]
        return context

    @extend_schema(summary="The tenant's members with their monthly limits")
    def get(self, request: Request, slug: str) -> Response:
        return self.list(request)


@extend_schema(tags=["members"], parameters=[SLUG, MEMBER_ID])
class MemberView(TenantAPIView):
    serializer_class = s.MemberSerializer

    @extend_schema(
        summary="Set or remove a member's monthly limit",
        request=s.MemberLimitSerializer,
        responses={200: s.MemberSerializer, 400: FIELD_ERRORS},
    )
    def patch(self, request: Request, slug: str, member_id: int) -> Response:
        member = (
            Membership.objects.filter(tenant=self.tenant, pk=member_id)
            .select_related("user")
            .first()
        )
        if member is None:
            raise NotFound("No such member.")
        form = s.MemberLimitSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        billing.set_member_limit(member, form.validated_data["monthly_limit"])
        context = {"member_budgets": services.limits_by_owner(self.tenant)[0]}
        return Response(s.MemberSerializer(member, context=context).data)
