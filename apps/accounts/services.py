"""API credentials: DRF tokens for people, and service users for trusted machines.

A service credential is a user that can never log in (no usable password, an address under
the reserved `.invalid` domain, so no password-reset mail can reach anyone) and that holds
exactly one power: `accounts.ingest_usage`, posting usage and budget checks for any
customer tenant. It is staff-free on purpose: it cannot open the admin or any staff
endpoint, and a leaked service token cannot grant credit or read other tenants' keys.
"""

from __future__ import annotations

import re

from django.contrib.auth.models import Permission
from django.db import transaction
from rest_framework.authtoken.models import Token

from apps.accounts.models import User

INGEST_USAGE = "accounts.ingest_usage"
SERVICE_DOMAIN = "service.invalid"
SERVICE_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,48}[a-z0-9]$")


class CredentialError(ValueError):
    pass


def service_email(name: str) -> str:
    return f"{name}@{SERVICE_DOMAIN}"


def is_service_user(user: User) -> bool:
    return user.email.endswith("@" + SERVICE_DOMAIN)


def ingest_permission() -> Permission:
    app_label, codename = INGEST_USAGE.split(".")
    return Permission.objects.get(content_type__app_label=app_label, codename=codename)


@transaction.atomic
def ensure_service_user(name: str) -> User:
    """The service user `name` (created on first use), holding only the ingest power."""
    if not SERVICE_NAME_RE.match(name):
        raise CredentialError(f"'{name}' is not a valid service name (2-50 of a-z, 0-9, '-').")
    user, created = User.objects.get_or_create(
        email=service_email(name), defaults={"name": f"Service: {name}"}
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    if user.is_staff or user.is_superuser:
        # Someone promoted the account by hand: a service token must never carry that.
        raise CredentialError(f"The service user {user.email} is staff; refusing a token.")
    user.user_permissions.add(ingest_permission())
    return user


@transaction.atomic
def issue_token(user: User, *, rotate: bool = False) -> Token:
    """A new DRF token for `user`. An existing one is replaced only with `rotate`."""
    existing = Token.objects.select_for_update().filter(user=user).first()
    if existing is not None:
        if not rotate:
            raise CredentialError("The user already has a token; pass --rotate to replace it.")
        existing.delete()
    return Token.objects.create(user=user)


def mark_email_verified(user: User) -> None:
    """Record `user`'s address as verified and primary (allauth's EmailAddress), for people
    staff or the demo seed vouch for; self-service signups verify by mail instead.
    Idempotent."""
    from allauth.account.models import EmailAddress

    EmailAddress.objects.update_or_create(
        user=user, email=user.email, defaults={"verified": True, "primary": True}
    )
