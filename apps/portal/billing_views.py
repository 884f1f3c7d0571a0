"""The workspace's billing pages: plan, budget, ledger, and the ways to pay (Stripe).

Every Stripe call is billing's (apps.billing.checkout); these views only send the browser
to the URL it returns. Nothing here changes money: Stripe's webhooks do, through billing's
services, once the payment is confirmed.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from apps.billing import checkout
from apps.billing.models import BillingAccount
from apps.billing.services import budget_status
from apps.catalog.models import Product
from apps.portal.forms import TopUpForm
from apps.portal.overview import budget_view, ledger_rows
from apps.portal.workspace import Workspace, admin_required, page_context

NOT_CONFIGURED = "Online payments are not configured on this site yet."


class SeeOther(HttpResponseRedirect):
    """303: the browser follows a POST's answer with a GET (to Stripe's pages)."""

    status_code = 303


def _account(workspace: Workspace) -> BillingAccount | None:
    return BillingAccount.objects.filter(tenant=workspace.tenant).first()


def _billing_page(
    request: HttpRequest, workspace: Workspace, topup_form: TopUpForm, status: int = 200
) -> HttpResponse:
    tenant = workspace.tenant
    account = _account(workspace)
    context: dict[str, Any] = page_context(
        request,
        workspace,
        plan=tenant.product,
        account=account,
        subscribed=account is not None and account.is_subscribed,
        budget=budget_view(budget_status(tenant)["tenant"]),
        plans=Product.objects.on_sale(),
        payments_enabled=checkout.payments_enabled(),
        topup_form=topup_form,
        ledger=ledger_rows(workspace),
    )
    return render(request, "portal/billing.html", context, status=status)


def _urls(request: HttpRequest) -> dict[str, str]:
    # Stripe fills in {CHECKOUT_SESSION_ID} itself: appended as is, never URL-encoded.
    done = request.build_absolute_uri(reverse("portal:billing_done"))
    return {
        "success_url": done + "?session_id={CHECKOUT_SESSION_ID}",
        "cancel_url": request.build_absolute_uri(reverse("portal:billing")),
    }


def _go(request: HttpRequest, start: Any) -> HttpResponse:
    """Call a checkout function; send the browser to Stripe, or back with the reason."""
    try:
        return SeeOther(start())
    except checkout.PaymentsUnavailable:
        messages.error(request, NOT_CONFIGURED)
    except checkout.CheckoutError as exc:
        messages.error(request, str(exc))
    return redirect("portal:billing")


@require_GET
@admin_required
def billing(request: HttpRequest, workspace: Workspace) -> HttpResponse:
    return _billing_page(request, workspace, TopUpForm())


@require_POST
@admin_required
def subscribe(request: HttpRequest, workspace: Workspace, slug: str) -> HttpResponse:
    product = Product.objects.on_sale().filter(slug=slug).first()
    if product is None:
        raise Http404("No such plan.")
    return _go(
        request,
        lambda: checkout.start_subscription(
            workspace.tenant, product, user=request.user, **_urls(request)
        ),
    )


@require_POST
@admin_required
def topup(request: HttpRequest, workspace: Workspace) -> HttpResponse:
    form = TopUpForm(request.POST)
    if not form.is_valid():
        return _billing_page(request, workspace, form, status=400)
    return _go(
        request,
        lambda: checkout.start_topup(
            workspace.tenant, form.cleaned_data["amount"], user=request.user, **_urls(request)
        ),
    )


@require_POST
@admin_required
def manage_billing(request: HttpRequest, workspace: Workspace) -> HttpResponse:
    return_url = request.build_absolute_uri(reverse("portal:billing"))
    return _go(
        request, lambda: checkout.billing_portal_url(workspace.tenant, return_url=return_url)
    )


@require_GET
@admin_required
def billing_done(request: HttpRequest, workspace: Workspace) -> HttpResponse:
    # The session id is not trusted for anything: the webhook applies the payment. The page
    # shows the workspace's state as it is now (the webhook may already have arrived).
    tenant = workspace.tenant
    context = page_context(
        request,
        workspace,
        plan=tenant.product,
        account=_account(workspace),
        budget=budget_view(budget_status(tenant)["tenant"]),
    )
    return render(request, "portal/billing_done.html", context)
