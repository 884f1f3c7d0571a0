"""Which workspace (tenant) a portal request is about, and who may do what in it.

On a customer's own host (slug.localhost) the host decides: the workspace is that tenant,
and only its members may open it. On the public site the user picks one of their own
workspaces (kept in the session); the oldest membership is the default. Nobody ever
reaches a workspace they are not a member of: the lookup always goes through the user's
memberships, so another tenant's id or slug is simply not found (404).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from apps.tenants.models import Membership, Tenant

SESSION_KEY = "portal_tenant_id"

View = Callable[..., HttpResponse]


@dataclass(frozen=True)
class Workspace:
    tenant: Tenant
    membership: Membership
    # True on the tenant's own host: the host, not the session, chose the workspace.
    on_own_host: bool

    @property
    def is_admin(self) -> bool:
        """Owners and admins manage billing and every key; members only their own keys."""
        return self.membership.is_admin


def on_tenant_host(request: HttpRequest) -> bool:
    tenant = getattr(request, "tenant", None)
    return tenant is not None and tenant.kind == Tenant.Kind.CUSTOMER


def memberships_of(request: HttpRequest) -> list[Membership]:
    """The user's customer workspaces, oldest membership first."""
    return list(
        Membership.objects.filter(user=request.user, tenant__kind=Tenant.Kind.CUSTOMER)
        .select_related("tenant", "tenant__product")
        .order_by("created_at", "id")
    )


def current_workspace(request: HttpRequest) -> Workspace | None:
    """The request's workspace; None when a signed-in user belongs to none. Raises Http404
    on a tenant's host the user is not a member of."""
    if on_tenant_host(request):
        membership = (
            Membership.objects.filter(user=request.user, tenant=request.tenant)
            .select_related("tenant", "tenant__product")
            .first()
        )
        if membership is None:
            raise Http404("No such workspace.")
        return Workspace(membership.tenant, membership, on_own_host=True)
    memberships = memberships_of(request)
    if not memberships:
        return None
    chosen = request.session.get(SESSION_KEY)
    membership = next((m for m in memberships if m.tenant_id == chosen), memberships[0])
    return Workspace(membership.tenant, membership, on_own_host=False)


def choose(request: HttpRequest, tenant: Tenant) -> None:
    """Make `tenant` the session's workspace on the public site (caller checked membership)."""
    request.session[SESSION_KEY] = tenant.pk


def page_context(request: HttpRequest, workspace: Workspace | None, **extra: Any) -> dict[str, Any]:
    """What every portal page's header needs: the workspace and, on the public site, the
    user's workspaces for the switcher (a tenant host shows only its own)."""
    show_switcher = workspace is not None and not workspace.on_own_host
    return {
        "workspace": workspace,
        "memberships": memberships_of(request) if show_switcher else [],
        **extra,
    }


def forbidden(request: HttpRequest, workspace: Workspace, message: str) -> HttpResponse:
    context = page_context(request, workspace, message=message)
    return render(request, "portal/forbidden.html", context, status=403)


def workspace_required(view: View) -> View:
    """Signed in (else the login page, coming back here), a member of the workspace (else
    404 on a tenant host), and some workspace at all (else the page offering to create
    one). The view receives the Workspace as its second argument."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        workspace = current_workspace(request)
        if workspace is None:
            return render(request, "portal/no_workspace.html", status=200)
        return view(request, workspace, *args, **kwargs)

    return wrapper


def admin_required(view: View) -> View:
    """`workspace_required`, and the user is the workspace's owner or an admin (else 403)."""

    @wraps(view)
    def check(
        request: HttpRequest, workspace: Workspace, *args: Any, **kwargs: Any
    ) -> HttpResponse:
        if not workspace.is_admin:
            return forbidden(
                request, workspace, "Only the workspace's owners and admins can manage billing."
            )
        return view(request, workspace, *args, **kwargs)

    return workspace_required(check)


def dashboard_url(request: HttpRequest, tenant: Tenant) -> str:
    """Where the portal of `tenant` lives for this request: /app/ on the public site (the
    session chooses), the tenant's own host when the user is browsing a tenant host."""
    if not on_tenant_host(request):
        return "/app/"
    domain = tenant.domains.filter(is_primary=True).values_list("domain", flat=True).first()
    if domain is None:
        return "/app/"
    port = request.get_port()
    default = "443" if request.is_secure() else "80"
    return f"{request.scheme}://{domain}{'' if port == default else ':' + port}/app/"
