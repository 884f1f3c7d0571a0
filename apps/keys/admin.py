from django.contrib import admin

from apps.keys.models import ApiKey


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = (
        "prefix",
        "name",
        "tenant",
        "member",
        "created_at",
        "last_used_at",
        "expires_at",
        "revoked_at",
    )
    list_filter = ("tenant",)
    search_fields = ("prefix", "name", "tenant__name")
    readonly_fields = ("prefix", "digest", "created_at", "last_used_at")

    def has_add_permission(self, request) -> bool:
        # Keys are created through the service so the secret can be shown once.
        return False
