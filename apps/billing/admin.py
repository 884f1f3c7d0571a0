"""Budgets, reservations and the ledger in the Django admin: counters and history are
read-only here; money moves only through the actions (which write ledger entries)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from apps.billing import services
from apps.billing.models import Budget, BudgetPeriod, LedgerEntry, Reservation


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class GrantCreditForm(forms.Form):
    amount = forms.DecimalField(max_digits=20, decimal_places=8, min_value=Decimal("0.00000001"))
    note = forms.CharField(max_length=500)


@admin.register(Budget)
class BudgetAdmin(admin.ModelAdmin):
    list_display = (
        "tenant",
        "scope",
        "member",
        "api_key",
        "limit",
        "credit",
        "spent",
        "reserved",
        "remaining",
        "period_start",
        "next_reset_at",
    )
    list_filter = ("scope",)
    search_fields = ("tenant__name", "tenant__slug")
    list_select_related = ("tenant", "member__user", "api_key")
    readonly_fields = (
        "tenant",
        "scope",
        "member",
        "api_key",
        "credit",
        "spent",
        "reserved",
        "period_start",
        "next_reset_at",
        "updated_at",
    )
    # Only member and key limits are edited here; the tenant's grant comes from its plan.
    fields = ("tenant", "scope", "member", "api_key", "limit", *readonly_fields[4:])
    actions = ("reset_now", "grant_credit")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        if obj is not None and obj.scope == "tenant":
            return (*self.readonly_fields, "limit")
        return self.readonly_fields

    def save_model(self, request: HttpRequest, obj: Budget, form: Any, change: bool) -> None:
        # Through the services, which take the locks in the hot path's order.
        if obj.scope == "member":
            services.set_member_limit(obj.member, obj.limit)
        elif obj.scope == "key":
            services.set_key_limit(obj.api_key, obj.limit)

    # Staff money powers are permissions, not `is_staff`: an action its user lacks the
    # permission for is not even offered (Django checks `has_<name>_permission`).
    def has_reset_budget_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("billing.reset_budget")

    def has_grant_credit_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("billing.grant_credit")

    @admin.action(description="Reset budget now (start a new period)", permissions=["reset_budget"])
    def reset_now(self, request: HttpRequest, queryset: QuerySet[Budget]) -> None:
        done = 0
        for budget in queryset.filter(scope="tenant").select_related("tenant"):
            try:
                services.reset_budget(budget.tenant, by=request.user)
                done += 1
            except services.BillingError as exc:
                self.message_user(request, f"{budget.tenant}: {exc}", messages.ERROR)
        self.message_user(request, f"Started a new period for {done} tenant(s).")

    @admin.action(description="Grant credit", permissions=["grant_credit"])
    def grant_credit(self, request: HttpRequest, queryset: QuerySet[Budget]) -> HttpResponse | None:
        budgets = list(queryset.filter(scope="tenant").select_related("tenant"))
        form = GrantCreditForm(request.POST if "apply" in request.POST else None)
        if "apply" in request.POST and form.is_valid():
            for budget in budgets:
                services.grant_credit(
                    budget.tenant,
                    form.cleaned_data["amount"],
                    by=request.user,
                    note=form.cleaned_data["note"],
                )
            self.message_user(request, f"Granted credit to {len(budgets)} tenant(s).")
            return None
        return TemplateResponse(
            request,
            "admin/billing/grant_credit.html",
            {
                **self.admin_site.each_context(request),
                "title": "Grant credit",
                "budgets": budgets,
                "form": form,
                "action": "grant_credit",
            },
        )


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "tenant",
        "kind",
        "amount",
        "member_id",
        "api_key_id",
        "request_id",
        "period",
        "created_by",
        "note",
    )
    list_filter = ("kind",)
    search_fields = ("tenant__slug", "request_id", "note")
    list_select_related = ("tenant", "created_by")
    date_hierarchy = "created_at"


@admin.register(Reservation)
class ReservationAdmin(ReadOnlyAdmin):
    list_display = (
        "request_id",
        "tenant",
        "state",
        "amount",
        "prompt_cost",
        "actual_cost",
        "max_output_tokens",
        "created_at",
        "expires_at",
        "settled_at",
    )
    list_filter = ("state",)
    search_fields = ("request_id", "tenant__slug")
    list_select_related = ("tenant",)


@admin.register(BudgetPeriod)
class BudgetPeriodAdmin(ReadOnlyAdmin):
    list_display = (
        "tenant",
        "start",
        "end",
        "granted",
        "spent",
        "credit_used",
        "credit_at_close",
        "closed_at",
        "closed_by",
    )
    search_fields = ("tenant__slug",)
    list_select_related = ("tenant", "closed_by")
