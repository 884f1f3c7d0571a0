"""The portal's dashboard, keys and workspaces. Billing pages are in billing_views.py."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.billing.services import budget_status
from apps.keys.models import ApiKey
from apps.keys.services import create_api_key, revoke_api_key
from apps.portal import snippets
from apps.portal.forms import KeyForm, WorkspaceForm
from apps.portal.overview import budget_view, key_rows, period_start
from apps.portal.workspace import (
    Workspace,
    choose,
    current_workspace,
    dashboard_url,
    forbidden,
    on_tenant_host,
    page_context,
    workspace_required,
)
from apps.tenants.models import Membership, Tenant
from apps.tenants.services import TenantError, create_workspace
from apps.usage.summary import period_summary


def _dashboard(
    request: HttpRequest, workspace: Workspace, key_form: KeyForm, status: int = 200
) -> HttpResponse:
    tenant = workspace.tenant
    budget = budget_view(budget_status(tenant)["tenant"])
    context = page_context(
        request,
        workspace,
        plan=tenant.product,
        budget=budget,
        usage=period_summary(tenant, period_start(budget)),
        keys=key_rows(workspace),
        key_form=key_form,
    )
    return render(request, "portal/dashboard.html", context, status=status)


@require_GET
@workspace_required
def dashboard(request: HttpRequest, workspace: Workspace) -> HttpResponse:
    return _dashboard(request, workspace, KeyForm())


@require_POST
@workspace_required
def create_key(request: HttpRequest, workspace: Workspace) -> HttpResponse:
    form = KeyForm(request.POST)
    if not form.is_valid():
        return _dashboard(request, workspace, form, status=400)
    # Every portal key belongs to the member who made it: a member can only ever create
    # their own, and an admin's key is charged to the admin.
    new = create_api_key(
        tenant=workspace.tenant,
        name=form.cleaned_data["name"],
        member=workspace.membership,
        created_by=request.user,
    )
    model = snippets.sample_model(workspace.tenant)
    base_url = request.build_absolute_uri("/").rstrip("/")
    # The secret is in this response only: rendered, never redirected to (it would have to
    # wait in the session) and never cached by the browser or a proxy.
    response = render(
        request,
        "portal/key_created.html",
        page_context(
            request,
            workspace,
            key=new.key,
            secret=new.secret,
            model=model,
            base_url=base_url,
            snippets=snippets.snippets(base_url=base_url, secret=new.secret, model=model)
            if model
            else [],
        ),
        status=201,
    )
    add_never_cache_headers(response)
    return response


@require_POST
@workspace_required
def revoke_key(request: HttpRequest, workspace: Workspace, key_id: int) -> HttpResponse:
    key = ApiKey.objects.filter(pk=key_id, tenant=workspace.tenant).first()
    if key is None:
        raise Http404("No such key.")
    if not workspace.is_admin and key.member_id != workspace.membership.pk:
        return forbidden(request, workspace, "You can only revoke your own keys.")
    revoke_api_key(key)
    messages.success(request, f"Key {key.prefix}… ({key.name}) is revoked.")
    return redirect("portal:dashboard")


@require_POST
@login_required
def switch(request: HttpRequest) -> HttpResponse:
    membership = (
        Membership.objects.filter(
            user=request.user,
            tenant__slug=request.POST.get("tenant", ""),
            tenant__kind=Tenant.Kind.CUSTOMER,
        )
        .select_related("tenant")
        .first()
    )
    if membership is None:
        raise Http404("No such workspace.")
    if not on_tenant_host(request):
        choose(request, membership.tenant)
    return redirect(dashboard_url(request, membership.tenant))


@require_http_methods(["GET", "POST"])
@login_required
def new_workspace(request: HttpRequest) -> HttpResponse:
    # On a tenant host, only its members get this far (404 otherwise), as on every page.
    workspace = current_workspace(request)
    form = WorkspaceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            tenant = create_workspace(owner=request.user, name=form.cleaned_data["name"])
        except TenantError as exc:
            form.add_error("name", str(exc))
        else:
            if not on_tenant_host(request):
                choose(request, tenant)
            messages.success(request, f"Workspace “{tenant.name}” is ready.")
            return redirect(dashboard_url(request, tenant))
    return render(
        request,
        "portal/new_workspace.html",
        page_context(request, workspace, form=form),
        status=400 if form.errors else 200,
    )
