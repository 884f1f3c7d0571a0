"""The billing and management API, mounted at /api/ on the public site."""

from __future__ import annotations

from django.urls import path

from apps.api import staff_views, views

app_name = "api"

tenant = "tenants/<slug:slug>/"

urlpatterns = [
    path(f"{tenant}budget-check", views.BudgetCheckView.as_view(), name="budget-check"),
    path(f"{tenant}budget", views.BudgetView.as_view(), name="budget"),
    path(f"{tenant}usage", views.UsageIngestView.as_view(), name="usage-ingest"),
    path(f"{tenant}usage/summary", views.UsageSummaryView.as_view(), name="usage-summary"),
    path(f"{tenant}ledger", views.LedgerView.as_view(), name="ledger"),
    path(f"{tenant}keys", views.KeysView.as_view(), name="keys"),
    path(f"{tenant}keys/<slug:prefix>/revoke", views.KeyRevokeView.as_view(), name="key-revoke"),
    path(f"{tenant}members", views.MembersView.as_view(), name="members"),
    path(f"{tenant}members/<int:member_id>", views.MemberView.as_view(), name="member"),
    path("staff/tenants", staff_views.TenantCreateView.as_view(), name="staff-tenants"),
    path(
        "staff/tenants/<slug:slug>/suspend",
        staff_views.TenantSuspendView.as_view(),
        name="staff-tenant-suspend",
    ),
    path(
        "staff/tenants/<slug:slug>/activate",
        staff_views.TenantActivateView.as_view(),
        name="staff-tenant-activate",
    ),
    path(
        "staff/tenants/<slug:slug>/reset-budget",
        staff_views.ResetBudgetView.as_view(),
        name="staff-reset-budget",
    ),
    path(
        "staff/tenants/<slug:slug>/grant-credit",
        staff_views.GrantCreditView.as_view(),
        name="staff-grant-credit",
    ),
    path("staff/provision", staff_views.ProvisionView.as_view(), name="staff-provision"),
]
