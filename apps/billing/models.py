"""Budgets, reservations, the ledger and closed periods. All in the public schema.

Counters (`spent`, `reserved`) live on one `Budget` row per scope so the hot path touches a
few rows and a monthly reset is one UPDATE; the append-only `LedgerEntry` table is the audit
trail the counters must agree with (`manage.py audit_ledger`). The hot path itself is SQL
(PL/pgSQL functions in migration 0002, called from `budget.py`); these models serve the
admin, the services and the tests.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import models
from django.db.models import F, Q

MONEY: dict[str, Any] = {"max_digits": 20, "decimal_places": 8}
ZERO = Decimal("0")
CENT = Decimal("0.01")  # what Stripe charges in: whole cents


class Scope(models.TextChoices):
    TENANT = "tenant", "Tenant"
    MEMBER = "member", "Member"
    KEY = "key", "API key"


class Budget(models.Model):
    """One row per scope. For the tenant scope: `limit` is the period's granted budget and
    `credit` the prepaid credit at hand; spend uses the grant first, then credit, so the
    credit used so far is max(0, spent - limit). For member and key scopes `limit` is the
    monthly limit (NULL: none, the row then only keeps counting)."""

    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="budgets")
    scope = models.CharField(max_length=8, choices=Scope.choices)
    member = models.ForeignKey(
        "tenants.Membership", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    api_key = models.ForeignKey(
        "keys.ApiKey", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    limit = models.DecimalField(**MONEY, null=True, blank=True)
    credit = models.DecimalField(**MONEY, default=ZERO)
    spent = models.DecimalField(**MONEY, default=ZERO)
    reserved = models.DecimalField(**MONEY, default=ZERO)
    period_start = models.DateTimeField()
    next_reset_at = models.DateTimeField(db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("tenant", "scope", "id")
        constraints = [
            models.UniqueConstraint(
                fields=("tenant",), condition=Q(scope="tenant"), name="budget_one_per_tenant"
            ),
            models.UniqueConstraint(
                fields=("member",), condition=Q(scope="member"), name="budget_one_per_member"
            ),
            models.UniqueConstraint(
                fields=("api_key",), condition=Q(scope="key"), name="budget_one_per_key"
            ),
            models.CheckConstraint(
                condition=(
                    Q(scope="tenant", member__isnull=True, api_key__isnull=True)
                    | Q(scope="member", member__isnull=False, api_key__isnull=True)
                    | Q(scope="key", member__isnull=True, api_key__isnull=False)
                ),
                name="budget_scope_matches_owner",
            ),
            models.CheckConstraint(
                condition=Q(reserved__gte=0), name="budget_reserved_not_negative"
            ),
            models.CheckConstraint(condition=Q(spent__gte=0), name="budget_spent_not_negative"),
            models.CheckConstraint(
                condition=Q(limit__isnull=True) | Q(limit__gte=0),
                name="budget_limit_not_negative",
            ),
        ]
        permissions = [("reset_budget", "Can close a budget period and start a new one")]

    def __str__(self) -> str:
        return f"{self.tenant} {self.scope} budget"

    @property
    def available(self) -> Decimal | None:
        """What the period lets this scope spend: for the tenant the grant plus credit; for a
        member or key its limit (None: no limit)."""
        if self.scope == Scope.TENANT:
            return (self.limit or ZERO) + self.credit
        return self.limit

    @property
    def used(self) -> Decimal:
        """Spent plus held by requests in flight."""
        return self.spent + self.reserved

    @property
    def grant_unspent(self) -> Decimal:
        """The part of the period's grant not spent or held (credit aside)."""
        return max(ZERO, (self.limit or ZERO) - self.used)

    @property
    def remaining(self) -> Decimal | None:
        available = self.available
        return None if available is None else available - self.used


class Reservation(models.Model):
    class State(models.TextChoices):
        HELD = "held", "Held"
        SETTLED = "settled", "Settled"
        EXPIRED = "expired", "Expired (released by the sweeper)"

    request_id = models.CharField(max_length=64, unique=True)
    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="+")
    # Plain ids: the budget rows are found by them, and a reservation outlives a revoked key.
    member_id = models.BigIntegerField(null=True, blank=True)
    api_key_id = models.BigIntegerField(null=True, blank=True)
    endpoint = models.CharField(max_length=16, blank=True)
    model = models.CharField(max_length=200, blank=True)
    amount = models.DecimalField(**MONEY)
    # The part of `amount` the prompt alone may cost: once a request reached an upstream the
    # provider bills its prompt, so an expired reservation charges at least this.
    prompt_cost = models.DecimalField(**MONEY, default=ZERO)
    max_output_tokens = models.PositiveIntegerField()
    state = models.CharField(max_length=8, choices=State.choices, default=State.HELD)
    actual_cost = models.DecimalField(**MONEY, null=True, blank=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    settled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at",)
        indexes = [
            models.Index(
                fields=("expires_at",), condition=Q(state="held"), name="reservation_held_expiry"
            )
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(prompt_cost__gte=0) & Q(amount__gte=F("prompt_cost")),
                name="reservation_amounts_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(actual_cost__isnull=True) | Q(actual_cost__gte=0),
                name="reservation_actual_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.request_id} {self.amount} ({self.state})"


class ReadOnlyError(Exception):
    """Ledger entries are never changed or deleted; correct with a new entry."""


class LedgerQuerySet(models.QuerySet["LedgerEntry"]):
    def update(self, **kwargs: Any) -> int:
        raise ReadOnlyError("The ledger is append-only.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise ReadOnlyError("The ledger is append-only.")

    def bulk_update(self, *args: Any, **kwargs: Any) -> int:
        raise ReadOnlyError("The ledger is append-only.")


class LedgerEntry(models.Model):
    """Every money movement. Positive amounts add to what the tenant may spend; usage is
    negative. Adjustments and refunds move the (non-expiring) credit balance."""

    class Kind(models.TextChoices):
        PERIOD_GRANT = "period_grant", "Period budget granted"
        CREDIT_PURCHASE = "credit_purchase", "Credit purchased"
        CREDIT_GRANT = "credit_grant", "Credit granted by staff"
        USAGE = "usage", "Usage charged"
        # A settlement that found the request id already charged by another source (e.g. an
        # ingest with the same id). Charged in full, never skipped, and flagged by the audit.
        USAGE_CONFLICT = "usage_conflict", "Usage charged against a conflicting entry"
        ADJUSTMENT = "adjustment", "Manual adjustment"
        REFUND = "refund", "Refund"
        # A subscription that stopped (canceled, unpaid, …): the unspent rest of the period's
        # paid grant is taken back (negative), so only credit stays spendable.
        GRANT_WITHDRAWN = "grant_withdrawn", "Paid grant withdrawn"

    CREDIT_KINDS = (Kind.CREDIT_PURCHASE, Kind.CREDIT_GRANT, Kind.ADJUSTMENT, Kind.REFUND)
    USAGE_KINDS = (Kind.USAGE, Kind.USAGE_CONFLICT)  # both count as spend
    GRANT_KINDS = (Kind.PERIOD_GRANT, Kind.GRANT_WITHDRAWN)  # both make the period's budget

    # No database constraint and no cascade: financial history outlives a deleted tenant.
    tenant = models.ForeignKey(
        "tenants.Tenant", on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    member_id = models.BigIntegerField(null=True, blank=True)
    api_key_id = models.BigIntegerField(null=True, blank=True)
    amount = models.DecimalField(**MONEY)
    request_id = models.CharField(max_length=64, blank=True)
    period = models.DateTimeField(help_text="Start of the budget period the entry belongs to.")
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        "accounts.User",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
    )
    note = models.CharField(max_length=500, blank=True)

    objects = LedgerQuerySet.as_manager()

    class Meta:
        ordering = ("-created_at", "-id")
        verbose_name_plural = "ledger entries"
        constraints = [
            # Settling twice (or an ingest repeat) can never charge a request twice. Per
            # tenant: request ids from an external proxy are only unique within a tenant.
            models.UniqueConstraint(
                fields=("tenant", "request_id"),
                condition=Q(kind="usage"),
                name="ledger_usage_once_per_tenant",
            ),
            # Usage is a charge (stored negative), grants and purchases add money: a sign
            # error anywhere is refused by the database, not found by an audit later.
            models.CheckConstraint(
                condition=~Q(kind__in=("usage", "usage_conflict")) | Q(amount__lte=0),
                name="ledger_usage_is_a_charge",
            ),
            models.CheckConstraint(
                condition=~Q(kind__in=("period_grant", "credit_purchase", "credit_grant"))
                | Q(amount__gte=0),
                name="ledger_grants_not_negative",
            ),
            models.CheckConstraint(
                condition=~Q(kind="grant_withdrawn") | Q(amount__lte=0),
                name="ledger_withdrawal_is_negative",
            ),
            # A paid invoice grants its period once, however often Stripe tells us it was
            # paid (request_id holds the invoice id; the reset's own grants have none).
            models.UniqueConstraint(
                fields=("tenant", "request_id"),
                condition=Q(kind="period_grant") & ~Q(request_id=""),
                name="ledger_period_grant_once_per_invoice",
            ),
        ]
        permissions = [("grant_credit", "Can grant prepaid credit to a tenant")]
        indexes = [models.Index(fields=("tenant", "period", "kind"), name="ledger_tenant_period")]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount} ({self.tenant_id})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise ReadOnlyError("The ledger is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise ReadOnlyError("The ledger is append-only.")


class BudgetPeriod(models.Model):
    """A closed period with its totals, written by the reset (history)."""

    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="+")
    start = models.DateTimeField()
    end = models.DateTimeField()
    granted = models.DecimalField(**MONEY)
    spent = models.DecimalField(**MONEY)
    credit_at_close = models.DecimalField(**MONEY)
    credit_used = models.DecimalField(**MONEY)
    reserved_at_close = models.DecimalField(**MONEY)
    scopes = models.JSONField(default=dict, blank=True, help_text="Member and key totals.")
    closed_at = models.DateTimeField()
    closed_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ("tenant", "-start")
        constraints = [
            models.UniqueConstraint(fields=("tenant", "start"), name="period_once_per_start")
        ]

    def __str__(self) -> str:
        return f"{self.tenant} {self.start:%Y-%m-%d} to {self.end:%Y-%m-%d}"


class BillingAccountQuerySet(models.QuerySet["BillingAccount"]):
    def lock_for(self, tenant: Any) -> BillingAccount:
        """The tenant's account, created if missing, locked until the caller's transaction
        ends (checkout creating the customer and webhooks linking it take turns)."""
        self.get_or_create(tenant=tenant)
        return self.select_for_update().get(tenant=tenant)


class BillingAccount(models.Model):
    """A tenant's link to Stripe: its customer and (at most one) subscription, as last read
    from Stripe. Written only by billing's Stripe code (checkout and webhook handlers); the
    plan it implies is applied to the tenant through `tenants.services.set_plan`.

    A tenant is the customer (not a user): a person in several workspaces pays for each."""

    tenant = models.OneToOneField(
        "tenants.Tenant", on_delete=models.CASCADE, related_name="billing_account"
    )
    stripe_customer_id = models.CharField(max_length=100, unique=True, null=True, blank=True)
    stripe_subscription_id = models.CharField(max_length=100, blank=True)
    # Stripe's subscription status as last read ("" when the tenant never subscribed):
    # active, trialing, past_due, unpaid, canceled, incomplete, incomplete_expired, paused.
    subscription_status = models.CharField(max_length=32, blank=True)
    current_period_start = models.DateTimeField(null=True, blank=True)
    current_period_end = models.DateTimeField(null=True, blank=True)
    cancel_at_period_end = models.BooleanField(default=False)
    # When the fetch of the subscription state last applied started (handlers re-fetch from
    # Stripe, never trust an event's payload): a fetch that started earlier and finishes
    # later (a slow concurrent delivery) never overwrites a newer state.
    synced_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = BillingAccountQuerySet.as_manager()

    class Meta:
        ordering = ("tenant",)

    def __str__(self) -> str:
        return f"{self.tenant} ({self.stripe_customer_id or 'no Stripe customer'})"

    @property
    def is_subscribed(self) -> bool:
        return bool(self.stripe_subscription_id) and self.subscription_status not in (
            "",
            "canceled",
            "incomplete_expired",
        )


class OverageReport(models.Model):
    """What was told to Stripe's overage meter for one tenant and budget period, in micro-USD
    (cumulative). `pending_micro` is a total being sent: it is committed before the Stripe call,
    so a crash between the call and the bookkeeping re-sends the same meter event identifier
    (Stripe keeps the first) instead of counting the delta twice."""

    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="+")
    period_start = models.DateTimeField()
    reported_micro = models.BigIntegerField(default=0)
    pending_micro = models.BigIntegerField(default=0)
    # The plan's monthly budget the overage was counted above (the audit checks the
    # reported total against the ledger's spend above it).
    monthly_budget = models.DecimalField(**MONEY, default=ZERO)
    # The period is closed and its last total was reported: nothing more will be sent.
    final = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("tenant", "-period_start")
        constraints = [
            models.UniqueConstraint(
                fields=("tenant", "period_start"), name="overage_report_once_per_period"
            ),
            models.CheckConstraint(
                condition=Q(reported_micro__gte=0) & Q(pending_micro__gte=0),
                name="overage_report_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.tenant_id} {self.period_start:%Y-%m-%d}: {self.reported_micro} micro-USD"
