"""The platform bootstrap and the idempotent demo seed used by `make run`."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db import transaction

from apps.accounts.models import User
from apps.accounts.services import mark_email_verified
from apps.catalog.models import ModelPrice, ModelRoute, Product, Provider, ProviderKind, RouteTarget
from apps.tenants import services as tenant_services
from apps.tenants.models import Tenant

PUBLIC_DOMAINS = ["localhost", "127.0.0.1"]
DEMO_ADMIN_EMAIL = "admin@cloudfreedom.localhost"

# (public name, mode, upstream model of the mock provider, input, output, cached per 1M tokens)
DEMO_ROUTES = [
    ("mock-gpt", ModelRoute.Mode.CHAT, "mock-fast", "0.50", "1.50", "0.25"),
    ("mock-claude", ModelRoute.Mode.CHAT, "mock-fast", "3.00", "15.00", "0.30"),
    ("mock-slow", ModelRoute.Mode.CHAT, "mock-slow", "0.50", "1.50", "0.25"),
    ("mock-embed", ModelRoute.Mode.EMBEDDING, "mock-embed", "0.02", "0", "0"),
]
DEMO_PRODUCTS = [
    # slug, name, price/month, budget/month, rpm, tpm, models
    ("free", "Free", "0.00", "1.00", 20, 20_000, ["mock-gpt", "mock-embed"]),
    ("starter", "Starter", "19.00", "10.00", 60, 100_000, ["mock-gpt", "mock-embed"]),
    ("pro", "Pro", "99.00", "75.00", 600, 1_000_000, [r[0] for r in DEMO_ROUTES]),
]
# Every self-service signup starts on this plan (a free plan: no payment needed to try it).
DEMO_SIGNUP_PLAN = "free"


@dataclass
class SeedResult:
    created: list[str] = field(default_factory=list)
    admin_password: str | None = None  # only when the admin was created by this run


def bootstrap() -> list[str]:
    """The public tenant (with its domains) and the template schema. Idempotent."""
    done = []
    if not Tenant.objects.filter(schema_name=settings.PUBLIC_SCHEMA_NAME).exists():
        done.append("public tenant")
    tenant_services.ensure_public_tenant(PUBLIC_DOMAINS)
    if not Tenant.objects.filter(schema_name=settings.TENANT_BASE_SCHEMA).exists():
        done.append("template tenant")
    tenant_services.ensure_template_tenant()
    return done


def seed_demo() -> SeedResult:
    result = SeedResult(created=bootstrap())
    with transaction.atomic():
        provider, made = Provider.objects.get_or_create(
            name="mock", defaults={"kind": ProviderKind.MOCK, "base_url": ""}
        )
        if made:
            result.created.append("mock provider")
        routes = {}
        for name, mode, upstream, inp, out, cached in DEMO_ROUTES:
            route, made = ModelRoute.objects.get_or_create(
                public_name=name,
                defaults={"mode": mode, "description": "Demo model served by the mock provider."},
            )
            routes[name] = route
            if made:
                RouteTarget.objects.create(route=route, provider=provider, upstream_model=upstream)
                ModelPrice.objects.create(
                    route=route,
                    input_per_mtok=Decimal(inp),
                    output_per_mtok=Decimal(out),
                    cached_input_per_mtok=Decimal(cached),
                    cache_write_per_mtok=Decimal(inp),
                )
                result.created.append(f"model {name}")
        products = {}
        for i, (slug, name, price, budget, rpm, tpm, models) in enumerate(DEMO_PRODUCTS):
            product, made = Product.objects.get_or_create(
                slug=slug,
                defaults={
                    "name": name,
                    "monthly_price": Decimal(price),
                    "monthly_budget": Decimal(budget),
                    "rpm_limit": rpm,
                    "tpm_limit": tpm,
                    "sort_order": i,
                    "description": f"{name} plan.",
                    # Only when no other plan is the signup plan (at most one may be).
                    "signup_default": slug == DEMO_SIGNUP_PLAN
                    and not Product.objects.filter(signup_default=True).exists(),
                },
            )
            if made:
                product.allowed_models.set([routes[m] for m in models])
                result.created.append(f"product {slug}")
            products[slug] = product
    if not User.objects.filter(email=DEMO_ADMIN_EMAIL).exists():
        password = secrets.token_urlsafe(12)
        admin = User.objects.create_superuser(DEMO_ADMIN_EMAIL, password, name="Demo admin")
        # Signing in through /accounts/login/ would otherwise ask to verify the address.
        mark_email_verified(admin)
        result.admin_password = password
        result.created.append("staff superuser")
    if not Tenant.objects.filter(slug="demo").exists():
        owner = User.objects.get(email=DEMO_ADMIN_EMAIL)
        tenant_services.create_tenant(
            name="Demo", slug="demo", product=products["pro"], owner=owner, domain="demo.localhost"
        )
        result.created.append("demo tenant at demo.localhost")
    return result
