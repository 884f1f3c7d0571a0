"""Creating and changing tenants. Everything else creates tenants through `create_tenant`."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.text import slugify
from django_tenants.utils import schema_context, schema_exists

from apps.accounts.models import User
from apps.keys.services import NewKey, create_api_key
from apps.tenants.clone import ensure_clone_functions
from apps.tenants.models import Domain, Membership, Tenant

if TYPE_CHECKING:
    from apps.catalog.models import Product

logger = logging.getLogger(__name__)

TEMPLATE_SLUG = "template"
SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,48}[a-z0-9]$")
RESERVED_SLUGS = {"public", "template", "www", "admin", "api", "static", "v1", "staff"}


class TenantError(ValueError):
    pass


class PlanOrCreditRequired(TenantError):
    """A customer tenant needs a plan or credit: without either it could spend nothing,
    and a tenant must never look as if it had free unlimited access."""

    field = "product"  # the input a form or API should point at

    def __init__(self) -> None:
        super().__init__(
            "A customer tenant needs a plan or an initial credit: choose a product, "
            "or grant a positive credit."
        )


def schema_name_for(slug: str) -> str:
    return "t_" + slug.replace("-", "_")


def tenant_domain_for(slug: str) -> str:
    return f"{slug}.{settings.TENANT_DOMAIN_SUFFIX}"


def ensure_template_tenant() -> Tenant:
    """The template schema new tenants are cloned from; migrate_schemas keeps it current.

    Built once by running the tenant migrations (slow, ~seconds); everything after clones it.
    """
    template, _ = Tenant.objects.get_or_create(
        schema_name=settings.TENANT_BASE_SCHEMA,
        defaults={"name": "Tenant template", "slug": TEMPLATE_SLUG, "kind": Tenant.Kind.TEMPLATE},
    )
    if not schema_exists(template.schema_name):
        # No base schema exists yet, so create_schema runs the tenant migrations.
        template.create_schema(check_if_exists=True, verbosity=0)
    # Installed here once, so no signup pays for it (a clone would install them too).
    ensure_clone_functions()
    return template


def ensure_public_tenant(domains: list[str]) -> Tenant:
    public, _ = Tenant.objects.get_or_create(
        schema_name=settings.PUBLIC_SCHEMA_NAME,
        defaults={"name": "CloudFreedom", "slug": "public", "kind": Tenant.Kind.PLATFORM},
    )
    for i, name in enumerate(domains):
        Domain.objects.get_or_create(domain=name, defaults={"tenant": public, "is_primary": i == 0})
    return public


def create_tenant(
    *,
    name: str,
    slug: str | None = None,
    product: Product | None = None,
    owner: User | None = None,
    domain: str | None = None,
    credit: Decimal | None = None,
    created_by: User | None = None,
    self_service: bool = False,
) -> Tenant:
    """Create a customer tenant: row, schema (cloned from the template), domain, owner, and
    (when given) an initial prepaid `credit` granted by `created_by`.

    A customer tenant made by staff needs a plan or a positive credit
    (PlanOrCreditRequired). A `self_service` one (a signup's workspace) may start with
    neither: its budget is then zero, so it can spend nothing until it subscribes or buys
    credit. All or nothing: a failure leaves no row, no schema, no domain and no credit.
    """
    slug = check_slug(slug or workspace_slug(name))
    if product is None and not (credit is not None and credit > 0) and not self_service:
        raise PlanOrCreditRequired()
    # Also called from a request on a workspace's own host (signup, "new workspace"), whose
    # connection is on that tenant's schema: tenants are made from the public schema
    # (django-tenants refuses otherwise), and the caller's schema is back on return.
    with schema_context(settings.PUBLIC_SCHEMA_NAME):
        return _create_tenant(
            name=name,
            slug=slug,
            product=product,
            owner=owner,
            domain=domain,
            credit=credit,
            created_by=created_by,
        )


def _create_tenant(
    *,
    name: str,
    slug: str,
    product: Product | None,
    owner: User | None,
    domain: str | None,
    credit: Decimal | None,
    created_by: User | None,
) -> Tenant:
    if not schema_exists(settings.TENANT_BASE_SCHEMA):
        ensure_template_tenant()
    with transaction.atomic():
        tenant = Tenant.objects.create(
            name=name, slug=slug, schema_name=schema_name_for(slug), product=product
        )
        # DDL is transactional in PostgreSQL: if anything below fails, the schema goes too.
        tenant.create_schema(check_if_exists=False, verbosity=0)
        Domain.objects.create(
            domain=domain or tenant_domain_for(slug), tenant=tenant, is_primary=True
        )
        if owner is not None:
            Membership.objects.create(user=owner, tenant=tenant, role=Membership.Role.OWNER)
        from apps.tenants.signals import tenant_created

        tenant_created.send(sender=Tenant, tenant=tenant)
        if credit is not None and credit > 0:
            # Billing owns credit; its budget row exists now (the signal above).
            from apps.billing.services import grant_credit

            grant_credit(tenant, credit, by=created_by, note="Initial credit.")
    return tenant


def workspace_slug(name: str) -> str:
    """The address (slug) a workspace name gives."""
    return slugify(name)[:50].strip("-")


class SlugReserved(TenantError):
    pass


class SlugInvalid(TenantError):
    pass


class SlugTaken(TenantError):
    pass


def check_slug(slug: str) -> str:
    """`slug` if a new tenant may have it; else SlugReserved, SlugInvalid or SlugTaken (the
    signup form shows each in its own words, create_tenant refuses them all)."""
    if slug in RESERVED_SLUGS:
        raise SlugReserved(f"'{slug}' is reserved.")
    if not SLUG_RE.match(slug):
        raise SlugInvalid(f"'{slug}' is not a valid tenant slug (3-50 of a-z, 0-9, '-').")
    if Tenant.objects.filter(slug=slug).exists():
        raise SlugTaken(f"A tenant with slug '{slug}' already exists.")
    return slug


def create_workspace(*, owner: User, name: str) -> Tenant:
    """A self-service workspace (at signup, or another one later) owned by `owner`: on the
    free signup plan when staff configured one, with the signup credit when configured,
    else with nothing to spend until it subscribes. Its address comes from `name`; a taken
    or invalid one raises TenantError, and nothing is left behind."""
    from apps.catalog.services import signup_plan

    name = name.strip()
    slug = workspace_slug(name)
    product = signup_plan()
    credit = settings.SIGNUP_CREDIT if settings.SIGNUP_CREDIT > 0 else None
    try:
        return create_tenant(
            name=name, slug=slug, product=product, owner=owner, credit=credit, self_service=True
        )
    except IntegrityError as exc:
        # Another signup took the same address between the check and the insert.
        raise TenantError(f"A tenant with slug '{slug}' already exists.") from exc


def set_plan(tenant: Tenant, product: Product | None) -> Tenant:
    """Put the tenant on `product` (None: no plan). Its markup, models and rate limits apply
    from the next request; budget grants are billing's (a plan change grants nothing)."""
    if tenant.product_id != (product.pk if product else None):
        tenant.product = product
        tenant.save(update_fields=["product"])
        logger.info(
            "tenants.plan_changed tenant=%s product=%s",
            tenant.slug,
            product.slug if product else None,
        )
    return tenant


def set_billing_anchor(tenant: Tenant, anchor: datetime) -> Tenant:
    """Move the day and time the tenant's budget periods start (billing follows a Stripe
    subscription's cycle). Billing calls this while it restarts the period itself."""
    if tenant.billing_anchor != anchor:
        tenant.billing_anchor = anchor
        tenant.save(update_fields=["billing_anchor"])
        logger.info("tenants.anchor_changed tenant=%s anchor=%s", tenant.slug, anchor.isoformat())
    return tenant


def set_status(tenant: Tenant, status: str) -> Tenant:
    if status not in Tenant.Status.values:
        raise TenantError(f"Unknown status '{status}'.")
    tenant.status = status
    tenant.save(update_fields=["status"])
    return tenant


# --- Provisioning: a user, their membership and first key, in one step ------------------


class ProvisionError(TenantError):
    """Provisioning refused; `field` names the argument at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Provisioned:
    user: User
    user_created: bool
    tenant: Tenant
    tenant_created: bool
    membership: Membership
    key: NewKey


@transaction.atomic
def provision(
    *,
    by: User,
    email: str,
    name: str = "",
    role: str = Membership.Role.MEMBER,
    tenant: Tenant | None = None,
    tenant_name: str | None = None,
    product: Product | None = None,
    credit: Decimal | None = None,
    key_name: str = "default",
) -> Provisioned:
    """User + membership + first key, in `tenant` or in a new tenant named `tenant_name`
    (created with `product` and/or an initial `credit`: a new customer tenant needs one of
    them), all or nothing. An existing user (any case of the email) is reused; a new one has
    no password and sets one through the password-reset mail."""
    user = User.objects.filter(email__iexact=email).first()
    user_created = user is None
    if user is None:
        user = User.objects.create_user(email, None, name=name)
    tenant_created = tenant is None
    if tenant is None:
        try:
            tenant = create_tenant(
                name=tenant_name or email, product=product, credit=credit, created_by=by
            )
        except PlanOrCreditRequired as exc:
            raise ProvisionError(exc.field, str(exc)) from exc
        except TenantError as exc:
            raise ProvisionError("tenant_name", str(exc)) from exc
    elif Membership.objects.filter(tenant=tenant, user=user).exists():
        raise ProvisionError("email", "This user is already a member of the tenant.")
    membership = Membership.objects.create(user=user, tenant=tenant, role=role)
    key = create_api_key(tenant=tenant, name=key_name, member=membership, created_by=by)
    logger.info(
        "tenants.provisioned tenant=%s user=%s role=%s key=%s by=%s",
        tenant.slug,
        user.pk,
        role,
        key.key.prefix,
        by.pk,
    )
    return Provisioned(user, user_created, tenant, tenant_created, membership, key)
