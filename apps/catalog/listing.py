"""The public model list: the one place that says which models a customer can buy and what
each plan's customer pays for them.

The landing, models and pricing pages and `/models.json` all read `public_models()`. A
model is listed when its route is active, has a price in force and at least one active
target on an active provider (the gateway serves nothing else: an unpriced model is
refused to every customer, a route without an upstream answers 503). Prices are the price
book's times each plan's markup, through `pricing.customer_price_per_mtok`: the same
arithmetic the gateway charges with.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import Prefetch
from django.utils import timezone

from apps.catalog import pricing
from apps.catalog.models import ModelPrice, ModelRoute, Product, ProviderKind, RouteTarget

# Short labels for the public pages; the admin's longer ones explain set-up, not the product.
KIND_LABELS = {
    ProviderKind.OPENAI: "OpenAI",
    ProviderKind.ANTHROPIC: "Anthropic",
    ProviderKind.GEMINI: "Google Gemini",
    ProviderKind.OPENAI_COMPATIBLE: "OpenAI-compatible",
    ProviderKind.MOCK: "Mock (demo)",
}


def price_text(amount: Decimal) -> str:
    """A price for pages and JSON: plain decimal notation, at least 2 places, no trailing
    zeros beyond them (`1.15`, `0.075`, `2.00`, never `2E+1`)."""
    text = format(amount, "f")
    whole, _, places = text.partition(".")
    places = places.rstrip("0").ljust(2, "0")
    return f"{whole}.{places}"


@dataclass(frozen=True, slots=True)
class ProviderRef:
    name: str
    kind: str
    label: str

    @property
    def is_mock(self) -> bool:
        return self.kind == ProviderKind.MOCK


@dataclass(frozen=True, slots=True)
class CustomerPrice:
    """Per 1M tokens, as one plan's customer pays it (markup applied), 8 places at most."""

    input: Decimal
    output: Decimal
    cached_input: Decimal

    @property
    def input_text(self) -> str:
        return price_text(self.input)

    @property
    def output_text(self) -> str:
        return price_text(self.output)

    @property
    def cached_input_text(self) -> str:
        return price_text(self.cached_input)

    def as_json(self) -> dict[str, str]:
        return {
            "input": self.input_text,
            "output": self.output_text,
            "cached_input": self.cached_input_text,
        }


@dataclass(frozen=True, slots=True)
class PlanRef:
    slug: str
    name: str
    markup_factor: Decimal
    signup_default: bool


@dataclass(frozen=True, slots=True)
class PublicModel:
    id: str
    mode: str
    mode_label: str
    description: str
    providers: tuple[ProviderRef, ...]
    context_window: int
    # None for an embedding model: it produces no output tokens.
    max_output_tokens: int | None
    base: CustomerPrice  # the price book's price, before any plan's markup
    plans: dict[str, CustomerPrice]  # slug → price, only plans that allow the model

    def price_for(self, slug: str | None) -> CustomerPrice | None:
        return self.plans.get(slug) if slug else None

    def searchable(self) -> str:
        parts = [self.id, self.mode, self.mode_label, self.description]
        parts += [p.name for p in self.providers] + [p.label for p in self.providers]
        return " ".join(parts).casefold()


@dataclass(slots=True)
class PublicCatalog:
    models: list[PublicModel]
    plans: list[PlanRef]
    total: int = 0  # models before a search narrowed them
    plan_names: dict[str, str] = field(default_factory=dict)
    products: list[Product] = field(default_factory=list)  # the plans' rows, same order

    def plan(self, slug: str | None) -> PlanRef | None:
        """The plan named by `slug`, else the signup plan, else the first; None without plans."""
        for plan in self.plans:
            if plan.slug == slug:
                return plan
        return next((p for p in self.plans if p.signup_default), None) or next(
            iter(self.plans), None
        )

    def plans_of(self, model: PublicModel) -> list[str]:
        """The names of the plans that include `model`, in plan order."""
        return [self.plan_names[slug] for slug in model.plans]

    def models_of(self, slug: str) -> list[str]:
        """The listed models a plan includes (its allowed models that can be sold)."""
        return [m.id for m in self.models if slug in m.plans]

    def provider_labels(self) -> list[str]:
        """The kinds of provider behind the listed models, each once, in order of first
        use, the demo provider last."""
        seen: dict[str, bool] = {}
        for model in self.models:
            for provider in model.providers:
                seen.setdefault(provider.label, provider.is_mock)
        return sorted(seen, key=lambda label: seen[label])

    def as_json(self) -> dict[str, Any]:
        return {
            "object": "list",
            "data": [
                {
                    "id": m.id,
                    "mode": m.mode,
                    "description": m.description,
                    "providers": [
                        {"name": p.name, "kind": p.kind, "label": p.label} for p in m.providers
                    ],
                    "context_window": m.context_window,
                    "max_output_tokens": m.max_output_tokens,
                    "pricing": {
                        "currency": "usd",
                        "unit": "1M tokens",
                        "plans": {slug: price.as_json() for slug, price in m.plans.items()},
                    },
                }
                for m in self.models
            ],
            "plans": [{"slug": p.slug, "name": p.name} for p in self.plans],
        }


def public_plans() -> list[Product]:
    """The plans on sale: active and public, in the pricing page's order."""
    return list(
        Product.objects.on_sale()
        .order_by("sort_order", "monthly_price", "id")
        .prefetch_related(
            Prefetch("allowed_models", queryset=ModelRoute.objects.filter(is_active=True))
        )
    )


def _prices_in_force(route_ids: list[int], at: datetime) -> dict[int, pricing.Price]:
    """Each route's price at `at`, chosen by `pricing.pick_price` (the gateway's rule)."""
    rows = (
        ModelPrice.objects.in_force(at)
        .filter(route_id__in=route_ids)
        .order_by("route_id", "-effective_from", "-id")
    )
    candidates: dict[int, list[pricing.Price]] = defaultdict(list)
    for row in rows:
        candidates[row.route_id].append(pricing.price_from_model(row))
    found = {}
    for route_id, prices in candidates.items():
        price = pricing.pick_price(prices, at)
        if price is not None:
            found[route_id] = price
    return found


def _customer_price(price: pricing.Price, markup_factor: Decimal) -> CustomerPrice:
    return CustomerPrice(
        pricing.customer_price_per_mtok(price.input, markup_factor),
        pricing.customer_price_per_mtok(price.output, markup_factor),
        pricing.customer_price_per_mtok(price.cached_input, markup_factor),
    )


def _providers(route: ModelRoute) -> tuple[ProviderRef, ...]:
    refs: dict[int, ProviderRef] = {}
    for target in route.targets.all():  # prefetched: active targets on active providers
        provider = target.provider
        label = KIND_LABELS.get(provider.kind, provider.kind)
        refs.setdefault(provider.pk, ProviderRef(provider.name, provider.kind, label))
    return tuple(refs.values())


def public_models(*, query: str = "", at: datetime | None = None) -> PublicCatalog:
    """Every model a customer can buy, with each public plan's price for it.

    `query` keeps the models whose id, mode, description or providers contain it (case
    does not matter). A plan that does not allow a model has no price for it."""
    at = at or timezone.now()
    products = public_plans()
    plans = [PlanRef(p.slug, p.name, p.markup_factor, p.signup_default) for p in products]
    allowed = {p.slug: {route.pk for route in p.allowed_models.all()} for p in products}
    targets = RouteTarget.objects.filter(is_active=True, provider__is_active=True)
    routes = list(
        ModelRoute.objects.filter(is_active=True)
        .order_by("public_name")
        .prefetch_related(
            Prefetch("targets", queryset=targets.select_related("provider").order_by("priority"))
        )
    )
    prices = _prices_in_force([r.pk for r in routes], at)
    models = []
    for route in routes:
        price = prices.get(route.pk)
        providers = _providers(route)
        if price is None or not providers:
            continue
        models.append(
            PublicModel(
                id=route.public_name,
                mode=route.mode,
                mode_label=route.get_mode_display(),
                description=route.description,
                providers=providers,
                context_window=route.context_window,
                max_output_tokens=(
                    None if route.mode == ModelRoute.Mode.EMBEDDING else route.max_output_tokens
                ),
                base=_customer_price(price, Decimal(1)),
                plans={
                    plan.slug: _customer_price(price, plan.markup_factor)
                    for plan in plans
                    if route.pk in allowed[plan.slug]
                },
            )
        )
    total = len(models)
    needle = query.strip().casefold()
    if needle:
        models = [m for m in models if needle in m.searchable()]
    return PublicCatalog(models, plans, total, {p.slug: p.name for p in plans}, products)
