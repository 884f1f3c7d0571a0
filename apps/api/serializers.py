"""Thin serializers: validate the shape of input, render output. No workflows here."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.fields import empty

from apps.accounts.models import User
from apps.billing.models import LedgerEntry
from apps.catalog.models import ModelRoute, Product
from apps.gateway.validation import MAX_CHOICES
from apps.keys.models import ApiKey
from apps.keys.services import NewKey
from apps.tenants.models import Membership, Tenant
from apps.usage.models import UsageRecord

MONEY = {"max_digits": 20, "decimal_places": 8}
INT_MAX = 2_147_483_647  # the usage columns are PostgreSQL integers
MAX_SUMMARY_DAYS = 366
_MONEY_FIELD = serializers.DecimalField(**MONEY)
MONEY_OR_NULL = serializers.DecimalField(**MONEY, allow_null=True)


def money(value: Decimal | None) -> str | None:
    """A Decimal as the API renders money everywhere: a string with 8 places."""
    return None if value is None else _MONEY_FIELD.to_representation(value)


# --- References ----------------------------------------------------------------------------


class TenantKeyField(serializers.CharField):
    """A key prefix, resolved to the ApiKey of the tenant in the serializer's context. Another
    tenant's key is as unknown as a made-up one. Blank (when allowed): no key, None."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 32)
        super().__init__(**kwargs)

    def run_validation(self, data: Any = empty) -> ApiKey | None:
        prefix = super().run_validation(data)  # the text, with the field's own checks
        if not prefix:
            return None
        key = (
            ApiKey.objects.select_related("member")
            .filter(tenant=self.context["tenant"], prefix=prefix)
            .first()
        )
        if key is None:
            raise serializers.ValidationError("No API key with this prefix in this tenant.")
        return key


class RouteField(serializers.CharField):
    """A public model name, resolved to its active ModelRoute."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 200)
        super().__init__(**kwargs)

    def run_validation(self, data: Any = empty) -> ModelRoute:
        name = super().run_validation(data)
        route = ModelRoute.objects.filter(public_name=name, is_active=True).first()
        if route is None:
            raise serializers.ValidationError(f"Unknown model '{name}'.")
        return route


# --- Budget ------------------------------------------------------------------------------


class BudgetCheckRequestSerializer(serializers.Serializer):
    key_prefix = TenantKeyField(source="key")
    model = RouteField(source="route")
    prompt_tokens = serializers.IntegerField(
        min_value=0, max_value=INT_MAX, help_text="Estimated prompt tokens."
    )
    max_tokens = serializers.IntegerField(
        min_value=1,
        max_value=INT_MAX,
        required=False,
        allow_null=True,
        help_text="The request's max_tokens; omitted: the gateway may shrink the output limit.",
    )
    n = serializers.IntegerField(
        min_value=1,
        max_value=MAX_CHOICES,
        default=1,
        help_text="The request's n: each choice is an answer of its own, billed as such.",
    )


class BudgetCheckSerializer(serializers.Serializer):
    allowed = serializers.BooleanField()
    reason = serializers.ChoiceField(
        choices=[
            "ok",
            "budget_exceeded",
            "tenant_suspended",
            "key_revoked",
            "key_expired",
            "model_not_allowed",
        ]
    )
    scope = serializers.CharField(allow_null=True)
    remaining = serializers.DecimalField(**MONEY, allow_null=True)
    estimated_cost = serializers.DecimalField(**MONEY)
    max_output_tokens = serializers.IntegerField()


class BudgetScopeSerializer(serializers.Serializer):
    scope = serializers.CharField()
    limit = serializers.DecimalField(**MONEY, allow_null=True)
    spent = serializers.DecimalField(**MONEY)
    reserved = serializers.DecimalField(**MONEY)
    remaining = serializers.DecimalField(**MONEY, allow_null=True)
    period_start = serializers.DateTimeField()
    next_reset_at = serializers.DateTimeField()
    credit = serializers.DecimalField(**MONEY, required=False)
    credit_used = serializers.DecimalField(**MONEY, required=False)
    member_id = serializers.IntegerField(required=False)
    api_key_id = serializers.IntegerField(required=False)


class BudgetStatusSerializer(serializers.Serializer):
    tenant = BudgetScopeSerializer(allow_null=True)
    members = BudgetScopeSerializer(many=True)
    keys = BudgetScopeSerializer(many=True)
    next_reset_at = serializers.DateTimeField(allow_null=True)


# --- Usage -------------------------------------------------------------------------------


class UsageIngestSerializer(serializers.Serializer):
    request_id = serializers.CharField(
        max_length=64,
        help_text="The reporter's own id. Ids the gateway issued (req_…) are refused (409).",
    )
    key_prefix = TenantKeyField(source="key", required=False, allow_blank=True)
    model = RouteField(source="route")
    provider = serializers.CharField(max_length=100, required=False, allow_blank=True)
    upstream_model = serializers.CharField(max_length=200, required=False, allow_blank=True)
    endpoint = serializers.ChoiceField(
        choices=UsageRecord.Endpoint.choices, default=UsageRecord.Endpoint.CHAT
    )
    prompt_tokens = serializers.IntegerField(min_value=0, max_value=INT_MAX, default=0)
    completion_tokens = serializers.IntegerField(min_value=0, max_value=INT_MAX, default=0)
    cached_tokens = serializers.IntegerField(min_value=0, max_value=INT_MAX, default=0)
    cache_write_tokens = serializers.IntegerField(min_value=0, max_value=INT_MAX, default=0)
    status = serializers.ChoiceField(choices=UsageRecord.Status.choices)
    error_type = serializers.CharField(max_length=64, required=False, allow_blank=True)
    http_status = serializers.IntegerField(
        min_value=100, max_value=599, required=False, allow_null=True
    )
    latency_ms = serializers.IntegerField(min_value=0, max_value=INT_MAX, default=0)
    ttft_ms = serializers.IntegerField(
        min_value=0, max_value=INT_MAX, required=False, allow_null=True
    )
    streamed = serializers.BooleanField(default=False)
    created_at = serializers.DateTimeField(
        required=False, help_text="When the request started; default: now."
    )

    def validate_created_at(self, value: Any) -> Any:
        if value > timezone.now() + timedelta(minutes=5):
            raise serializers.ValidationError("Must not be in the future.")
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # prompt_tokens counts every input token, the cached and cache-written ones included.
        if attrs["cached_tokens"] + attrs["cache_write_tokens"] > attrs["prompt_tokens"]:
            raise serializers.ValidationError(
                {"cached_tokens": ["cached_tokens + cache_write_tokens exceed prompt_tokens."]}
            )
        return attrs


class UsageRecordSerializer(serializers.ModelSerializer):
    class Meta:
        model = UsageRecord
        fields = (
            "request_id",
            "created_at",
            "api_key_prefix",
            "member_id",
            "endpoint",
            "model",
            "provider",
            "upstream_model",
            "prompt_tokens",
            "completion_tokens",
            "cached_tokens",
            "cache_write_tokens",
            "cost",
            "status",
            "error_type",
            "http_status",
            "latency_ms",
            "ttft_ms",
            "streamed",
        )
        read_only_fields = fields


class UsageSummaryQuerySerializer(serializers.Serializer):
    group_by = serializers.ChoiceField(choices=["day", "model", "key", "member"], default="day")
    start = serializers.DateField(
        required=False, help_text="First day (UTC); default: 29 days ago."
    )
    end = serializers.DateField(
        required=False, help_text="Last day (UTC), included; default: today."
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        end: date = attrs.get("end") or timezone.now().date()
        start: date = attrs.get("start") or end - timedelta(days=29)
        if start > end:
            raise serializers.ValidationError({"start": ["Must not be after end."]})
        if (end - start).days >= MAX_SUMMARY_DAYS:
            raise serializers.ValidationError({"start": [f"At most {MAX_SUMMARY_DAYS} days."]})
        return {**attrs, "start": start, "end": end}


class UsageSummaryRowSerializer(serializers.Serializer):
    key = serializers.CharField(allow_null=True)
    label = serializers.CharField()
    requests = serializers.IntegerField()
    errors = serializers.IntegerField()
    prompt_tokens = serializers.IntegerField()
    completion_tokens = serializers.IntegerField()
    cached_tokens = serializers.IntegerField()
    cost = serializers.DecimalField(**MONEY)
    avg_latency_ms = serializers.FloatField(allow_null=True)
    avg_ttft_ms = serializers.FloatField(allow_null=True)


class UsageSummarySerializer(serializers.Serializer):
    group_by = serializers.CharField()
    start = serializers.DateField()
    end = serializers.DateField()
    rows = UsageSummaryRowSerializer(many=True)


# --- Ledger ------------------------------------------------------------------------------


class LedgerEntrySerializer(serializers.ModelSerializer):
    class Meta:
        model = LedgerEntry
        fields = (
            "id",
            "kind",
            "amount",
            "request_id",
            "member_id",
            "api_key_id",
            "period",
            "created_at",
            "created_by_id",
            "note",
        )
        read_only_fields = fields


# --- Keys and members --------------------------------------------------------------------


class ApiKeySerializer(serializers.ModelSerializer):
    member_id = serializers.IntegerField(allow_null=True, read_only=True)
    monthly_limit = serializers.SerializerMethodField()

    class Meta:
        model = ApiKey
        fields = (
            "prefix",
            "name",
            "member_id",
            "created_at",
            "last_used_at",
            "expires_at",
            "revoked_at",
            "allowed_models",
            "rpm_limit",
            "tpm_limit",
            "monthly_limit",
        )
        read_only_fields = fields

    @extend_schema_field(MONEY_OR_NULL)
    def get_monthly_limit(self, key: ApiKey) -> str | None:
        view = self.context.get("key_budgets", {}).get(key.pk)
        return money(view["limit"]) if view else None


class ApiKeyCreatedSerializer(ApiKeySerializer):
    secret = serializers.CharField(read_only=True, help_text="The whole key. Shown this once.")

    class Meta(ApiKeySerializer.Meta):
        fields = (*ApiKeySerializer.Meta.fields, "secret")
        read_only_fields = fields

    def to_representation(self, instance: NewKey) -> dict[str, Any]:
        """Renders a `NewKey`: the stored key plus the secret it was created with."""
        data = ApiKeySerializer(instance.key, context=self.context).data
        return {**data, "secret": instance.secret}


class TenantMemberField(serializers.IntegerField):
    """A membership id, resolved to the Membership of the tenant in the context."""

    def run_validation(self, data: Any = empty) -> Membership | None:
        pk = super().run_validation(data)
        if pk is None:
            return None
        member = Membership.objects.filter(tenant=self.context["tenant"], pk=pk).first()
        if member is None:
            raise serializers.ValidationError("No such member in this tenant.")
        return member


class ApiKeyCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100, default="default")
    member_id = TenantMemberField(source="member", required=False, allow_null=True)
    allowed_models = serializers.ListField(
        child=serializers.CharField(max_length=200), required=False, default=list
    )
    expires_at = serializers.DateTimeField(required=False, allow_null=True)
    rpm_limit = serializers.IntegerField(min_value=1, required=False, allow_null=True)
    tpm_limit = serializers.IntegerField(min_value=1, required=False, allow_null=True)
    monthly_limit = serializers.DecimalField(**MONEY, min_value=0, required=False, allow_null=True)

    def validate_allowed_models(self, names: list[str]) -> list[str]:
        known = set(
            ModelRoute.objects.filter(public_name__in=names).values_list("public_name", flat=True)
        )
        unknown = sorted(set(names) - known)
        if unknown:
            raise serializers.ValidationError(f"Unknown models: {', '.join(unknown)}.")
        return names


class MemberSerializer(serializers.ModelSerializer):
    email = serializers.EmailField(source="user.email", read_only=True)
    monthly_limit = serializers.SerializerMethodField()
    spent = serializers.SerializerMethodField()

    class Meta:
        model = Membership
        fields = ("id", "user_id", "email", "role", "created_at", "monthly_limit", "spent")
        read_only_fields = fields

    def _view(self, member: Membership) -> dict[str, Any] | None:
        return self.context.get("member_budgets", {}).get(member.pk)

    @extend_schema_field(MONEY_OR_NULL)
    def get_monthly_limit(self, member: Membership) -> str | None:
        view = self._view(member)
        return money(view["limit"]) if view else None

    @extend_schema_field(MONEY_OR_NULL)
    def get_spent(self, member: Membership) -> str | None:
        view = self._view(member)
        return money(view["spent"]) if view else None


class MemberLimitSerializer(serializers.Serializer):
    monthly_limit = serializers.DecimalField(
        **MONEY, min_value=0, allow_null=True, help_text="null removes the limit."
    )


# --- Staff -------------------------------------------------------------------------------


class TenantSerializer(serializers.ModelSerializer):
    product = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    domain = serializers.SerializerMethodField()
    # A plain string in the schema: as an enum its name would collide with usage's `status`.
    status = serializers.CharField(read_only=True, help_text="active | suspended")

    class Meta:
        model = Tenant
        fields = ("slug", "name", "status", "product", "domain", "billing_anchor", "created_at")
        read_only_fields = fields

    def get_domain(self, tenant: Tenant) -> str | None:
        domain = tenant.get_primary_domain()
        return domain.domain if domain else None


class UserEmailField(serializers.EmailField):
    """An existing user's email address (any case), resolved to the User. Blank: None."""

    def run_validation(self, data: Any = empty) -> User | None:
        email = super().run_validation(data)
        if not email:
            return None
        user = User.objects.filter(email__iexact=email).first()
        if user is None:
            raise serializers.ValidationError("No user with this email.")
        return user


def _products() -> Any:
    return Product.objects.filter(is_active=True)


class TenantCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    slug = serializers.SlugField(max_length=50, required=False, allow_blank=True)
    product = serializers.SlugRelatedField(
        slug_field="slug", queryset=_products(), required=False, allow_null=True
    )
    owner_email = UserEmailField(source="owner", required=False, allow_blank=True)
    credit = serializers.DecimalField(
        **MONEY,
        min_value=Decimal("0.00000001"),
        required=False,
        allow_null=True,
        help_text="Initial prepaid credit (USD); needs billing.grant_credit. "
        "A tenant needs a product or a credit.",
    )


class ProvisionSerializer(serializers.Serializer):
    email = serializers.EmailField()
    name = serializers.CharField(max_length=150, required=False, allow_blank=True, default="")
    tenant = serializers.SlugRelatedField(
        slug_field="slug",
        queryset=Tenant.objects.filter(kind=Tenant.Kind.CUSTOMER),
        required=False,
        allow_null=True,
        help_text="Slug of an existing tenant; or give tenant_name for a new one.",
    )
    tenant_name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    product = serializers.SlugRelatedField(
        slug_field="slug", queryset=_products(), required=False, allow_null=True
    )
    credit = serializers.DecimalField(
        **MONEY,
        min_value=Decimal("0.00000001"),
        required=False,
        allow_null=True,
        help_text="Initial prepaid credit of a new tenant (USD); needs billing.grant_credit. "
        "A new tenant needs a product or a credit.",
    )
    role = serializers.ChoiceField(choices=Membership.Role.choices, default=Membership.Role.MEMBER)
    key_name = serializers.CharField(max_length=100, default="default")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if bool(attrs.get("tenant")) == bool(attrs.get("tenant_name")):
            raise serializers.ValidationError(
                {"tenant": ["Give either tenant (an existing slug) or tenant_name (a new one)."]}
            )
        for field in ("product", "credit"):
            if attrs.get("tenant") and attrs.get(field):
                raise serializers.ValidationError(
                    {field: [f"A {field} can only be given to a new tenant."]}
                )
        return attrs


class ProvisionedSerializer(serializers.Serializer):
    user_id = serializers.IntegerField(source="user.pk")
    email = serializers.EmailField(source="user.email")
    user_created = serializers.BooleanField()
    tenant = TenantSerializer()
    tenant_created = serializers.BooleanField()
    membership_id = serializers.IntegerField(source="membership.pk")
    role = serializers.CharField(source="membership.role")
    key = ApiKeyCreatedSerializer()


class GrantCreditSerializer(serializers.Serializer):
    amount = serializers.DecimalField(**MONEY)
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")

    def validate_amount(self, value: Any) -> Any:
        if value <= 0:
            raise serializers.ValidationError("Must be greater than zero.")
        return value


class ClosedPeriodSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    granted = serializers.DecimalField(**MONEY)
    spent = serializers.DecimalField(**MONEY)
    credit_used = serializers.DecimalField(**MONEY)


class ResetResultSerializer(serializers.Serializer):
    closed = ClosedPeriodSerializer()
    new_period_start = serializers.DateTimeField()
    next_reset_at = serializers.DateTimeField()
