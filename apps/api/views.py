"""Tenant-scoped endpoints under /api/tenants/{slug}/: staff, or the tenant's owners/admins;
usage ingest and the budget dry run: a trusted service (see permissions.py)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import APIException, NotFound, ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.mixins import ListModelMixin
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from apps.analytics.queries import usage_summary
from apps.api import serializers as s
from apps.api.permissions import IsTrustedService, customer_tenant, tenant_for_admin
from apps.billing import services as billing
from apps.billing.models import LedgerEntry
from apps.billing.quote import QuoteError, quote_request
from apps.keys.models import ApiKey
from apps.keys.services import KeyError_, issue_api_key, revoke_api_key
from apps.tenants.models import Membership, Tenant
from apps.usage.ingest import ExternalUsage, IngestError, ingest_usage

SLUG = OpenApiParameter("slug", OpenApiTypes.STR, OpenApiParameter.PATH, description="Tenant slug")
PREFIX = OpenApiParameter(
    "prefix", OpenApiTypes.STR, OpenApiParameter.PATH, description="Key prefix"
)
MEMBER_ID = OpenApiParameter("member_id", OpenApiTypes.INT, OpenApiParameter.PATH)
FIELD_ERRORS = OpenApiResponse(description="Field errors: {field: [message, …]}")
CONFLICT = OpenApiResponse(
    description="The request id is the gateway's (issued by it, reserved or recorded by it): "
    "{request_id: [message]}"
)


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "Conflict."
    default_code = "conflict"


def field_error(field: str, message: str) -> ValidationError:
    """A 400 in DRF's field-error shape, for what only a service could tell."""
    return ValidationError({field: [message]})


def budgets_by_owner(tenant: Tenant) -> tuple[dict[int, Any], dict[int, Any]]:
    """The tenant's member and key budget views, by membership id and by key id."""
    views = billing.budget_status(tenant)
    members = {v["member_id"]: v for v in views.get("members", [])}
    keys = {v["api_key_id"]: v for v in views.get("keys", [])}
    return members, keys


class TenantAPIView(GenericAPIView):
    # Resolves and authorises `self.tenant` once authentication has run. (A comment, not a
    # docstring: drf-spectacular would print a docstring as every endpoint's description.)

    tenant: Tenant

    def resolve_tenant(self, request: Request, slug: str) -> Tenant:
        return tenant_for_admin(request, slug)

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        self.tenant = self.resolve_tenant(request, kwargs["slug"])

    def get_serializer_context(self) -> dict[str, Any]:
        context = super().get_serializer_context()
        if hasattr(self, "tenant"):  # not when drf-spectacular builds the schema
            context["tenant"] = self.tenant
        return context


class TrustedServiceAPIView(TenantAPIView):
    # For a trusted service only (see IsTrustedService): it may act on any customer tenant,
    # and everyone else gets the same 403 whatever the slug.
    permission_classes = [IsAuthenticated, IsTrustedService]

    def resolve_tenant(self, request: Request, slug: str) -> Tenant:
        return customer_tenant(slug)


@extend_schema(tags=["budget"], parameters=[SLUG])
class BudgetCheckView(TrustedServiceAPIView):
    serializer_class = s.BudgetCheckRequestSerializer

    @extend_schema(
        summary="Dry run: could this key afford this request now?",
        description="For a trusted service. Runs the gateway's own reservation and rolls it "
        "back: the answer is what a reservation would decide now, and nothing is held.",
        request=s.BudgetCheckRequestSerializer,
        responses={200: s.BudgetCheckSerializer, 400: FIELD_ERRORS},
    )
    def post(self, request: Request, slug: str) -> Response:
        form = self.get_serializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        try:
            quote = quote_request(
                self.tenant,
                data["key"],
                data["route"],
                prompt_tokens=data["prompt_tokens"],
                max_tokens=data.get("max_tokens"),
                choices=data["n"],
            )
        except QuoteError as exc:
            raise field_error(exc.field, str(exc))
        return Response(s.BudgetCheckSerializer(quote).data)


@extend_schema(tags=["budget"], parameters=[SLUG])
class BudgetView(TenantAPIView):
    serializer_class = s.BudgetStatusSerializer

    @extend_schema(summary="Every budget scope of the tenant")
    def get(self, request: Request, slug: str) -> Response:
        return Response(s.BudgetStatusSerializer(billing.budget_status(self.tenant)).data)


@extend_schema(tags=["usage"], parameters=[SLUG])
class UsageIngestView(TrustedServiceAPIView):
    serializer_class = s.UsageIngestSerializer

    @extend_schema(
        summary="Record (and charge) one request's usage; idempotent by request_id",
        description=(
            "For a trusted service (an external proxy). The cost comes from the price book. "
            "A repeated request_id changes nothing and answers 200 with the stored record. "
            "An id the gateway issued or reserved is refused with 409."
        ),
        request=s.UsageIngestSerializer,
        responses={
            201: s.UsageRecordSerializer,
            200: OpenApiResponse(s.UsageRecordSerializer, description="A repeat: the record."),
            400: FIELD_ERRORS,
            409: CONFLICT,
        },
    )
    def post(self, request: Request, slug: str) -> Response:
        form = self.get_serializer(data=request.data)
        form.is_valid(raise_exception=True)
        try:
            record, created = ingest_usage(self.tenant, ExternalUsage(**form.validated_data))
        except IngestError as exc:
            if exc.conflict:
                raise Conflict({exc.field: [str(exc)]})
            raise field_error(exc.field, str(exc))
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
            context["key_budgets"] = budgets_by_owner(self.tenant)[1]
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
        form = s.ApiKeyCreateSerializer(data=request.data, context={"tenant": self.tenant})
        form.is_valid(raise_exception=True)
        data = form.validated_data
        try:
            new = issue_api_key(tenant=self.tenant, created_by=request.user, **data)
        except KeyError_ as exc:
            # The member and the model names are resolved above; the expiry is what is left.
            raise field_error("expires_at", str(exc))
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
            context["member_budgets"] = budgets_by_owner(self.tenant)[0]
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
        context = {"member_budgets": budgets_by_owner(self.tenant)[0]}
        return Response(s.MemberSerializer(member, context=context).data)
