"""The public website: landing, models (page and JSON), pricing and docs. Read-only pages
built from the catalog's public listing (`apps.catalog.listing`)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe

from apps.catalog import listing

MAX_QUERY = 100  # a search box, not a place for essays
LANDING_MODELS = 6  # model names shown on the landing page


def site_urls(request: HttpRequest) -> dict[str, str]:
    """This site's own addresses, as a client must type them (the request's host)."""
    root = f"{request.scheme}://{request.get_host()}"
    return {"site_root": root, "api_base": root + "/v1"}


def sample_model(catalog: listing.PublicCatalog, mode: str = "chat") -> str:
    """A model to put in the code samples: the default plan's first of `mode`, else any."""
    default = catalog.plan(None)
    of_mode = [m for m in catalog.models if m.mode == mode]
    included = [m for m in of_mode if default is not None and default.slug in m.plans]
    picks = included or of_mode
    return picks[0].id if picks else "MODEL_ID"


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    catalog = listing.public_models()
    return render(
        request,
        "website/home.html",
        {
            "catalog": catalog,
            "featured": catalog.models[:LANDING_MODELS],
            "more_models": max(0, len(catalog.models) - LANDING_MODELS),
            "sample_model": sample_model(catalog),
            **site_urls(request),
        },
    )


@require_safe
def models(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()[:MAX_QUERY]
    catalog = listing.public_models(query=query)
    plan = catalog.plan(request.GET.get("plan"))
    # Without any plan on sale the page shows the price book's prices, labelled as such.
    rows = [
        (m, m.price_for(plan.slug) if plan else m.base, catalog.plans_of(m)) for m in catalog.models
    ]
    return render(
        request,
        "website/models.html",
        {"catalog": catalog, "plan": plan, "rows": rows, "query": query},
    )


@require_safe
@cache_control(public=True, max_age=60)
def models_json(request: HttpRequest) -> JsonResponse:
    return JsonResponse(listing.public_models().as_json())


@require_safe
def pricing(request: HttpRequest) -> HttpResponse:
    catalog = listing.public_models()
    cards = [(product, catalog.models_of(product.slug)) for product in catalog.products]
    return render(request, "website/pricing.html", {"cards": cards})


@require_safe
def docs(request: HttpRequest) -> HttpResponse:
    catalog = listing.public_models()
    return render(
        request,
        "website/docs.html",
        {
            "sample_model": sample_model(catalog),
            "sample_embedding": sample_model(catalog, "embedding"),
            **site_urls(request),
        },
    )
