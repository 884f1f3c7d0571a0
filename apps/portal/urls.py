"""The customer portal, under /app/ on the public site and on a workspace's own host."""

from django.urls import path

from apps.portal import billing_views, views

app_name = "portal"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("keys/", views.create_key, name="create_key"),
    path("keys/<int:key_id>/revoke/", views.revoke_key, name="revoke_key"),
    path("switch/", views.switch, name="switch"),
    path("workspaces/new/", views.new_workspace, name="new_workspace"),
    path("billing/", billing_views.billing, name="billing"),
    path("billing/subscribe/<slug:slug>/", billing_views.subscribe, name="subscribe"),
    path("billing/topup/", billing_views.topup, name="topup"),
    path("billing/manage/", billing_views.manage_billing, name="manage_billing"),
    path("billing/done/", billing_views.billing_done, name="billing_done"),
]
