from django.contrib import admin

from apps.tenants.models import Domain, Membership, Tenant


class DomainInline(admin.TabularInline):
    model = Domain
    extra = 0


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ("user",)


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "kind", "status", "product", "billing_anchor", "created_at")
    list_filter = ("kind", "status", "product")
    search_fields = ("name", "slug", "schema_name")
    readonly_fields = ("schema_name", "kind", "created_at")
    inlines = (DomainInline, MembershipInline)
    actions = ("suspend", "activate")

    def has_add_permission(self, request) -> bool:
        # New tenants need a schema: created through services.create_tenant (staff pages/API).
        return False

    @admin.action(description="Suspend selected tenants")
    def suspend(self, request, queryset) -> None:
        queryset.filter(kind=Tenant.Kind.CUSTOMER).update(status=Tenant.Status.SUSPENDED)

    @admin.action(description="Activate selected tenants")
    def activate(self, request, queryset) -> None:
        queryset.filter(kind=Tenant.Kind.CUSTOMER).update(status=Tenant.Status.ACTIVE)


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "tenant", "role", "created_at")
    list_filter = ("role",)
    search_fields = ("user__email", "tenant__name")
