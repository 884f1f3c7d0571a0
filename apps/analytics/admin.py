"""Rollups are derived data: viewable, never edited by hand (a rerun would undo it)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from apps.analytics.models import AggregationState, UsageRollup


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(UsageRollup)
class UsageRollupAdmin(ReadOnlyAdmin):
    list_display = (
        "bucket",
        "granularity",
        "tenant",
        "model",
        "provider",
        "api_key_id",
        "member_id",
        "requests",
        "errors",
        "cost",
    )
    list_filter = ("granularity", "tenant", "provider")
    search_fields = ("model", "tenant__slug")
    date_hierarchy = "bucket"
    list_select_related = ("tenant",)


@admin.register(AggregationState)
class AggregationStateAdmin(ReadOnlyAdmin):
    list_display = ("tenant", "watermark", "last_run_at")
    list_select_related = ("tenant",)
