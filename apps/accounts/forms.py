"""The signup form: allauth's (email, password twice) plus the workspace the user will own.

The user, their email address and their workspace (tenant, schema, domain, membership,
budget) are created in one transaction: a signup that fails anywhere leaves nothing.
"""

from __future__ import annotations

import logging
import re
import secrets
from typing import Any

from allauth.account.adapter import get_adapter
from allauth.account.forms import SignupForm as AllauthSignupForm
from django import forms
from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils.text import slugify

from apps.accounts.models import User
from apps.tenants.models import Tenant
from apps.tenants.services import (
    SlugInvalid,
    SlugReserved,
    SlugTaken,
    TenantError,
    check_slug,
    create_workspace,
    workspace_slug,
)

logger = logging.getLogger(__name__)

# Attempts at a derived address before giving up: each has 16^6 suffixes, so a second
# attempt is already a one-in-millions event.
DERIVED_ATTEMPTS = 3
SUFFIX_HEX = 3  # bytes: six hex characters
UNAVAILABLE = (
    "We could not create your workspace just now, so nothing was saved. Please try again "
    "in a minute; if it keeps failing, contact support."
)


class SignupFailed(Exception):
    """The signup was rolled back; `field` (None: the whole form) shows `message`."""

    def __init__(self, field: str | None, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def taken_message(slug: str) -> str:
    return f"The address {slug}.{settings.TENANT_DOMAIN_SUFFIX} is taken: choose another name."


def derived_workspace_name(email: str) -> str:
    """A workspace name from the email's local part plus a random suffix, e.g.
    jane.doe@example.com → jane-doe-3f9a1c (the suffix keeps two Janes apart)."""
    local = email.split("@", 1)[0].split("+", 1)[0]  # jane+ai@… is still jane
    base = slugify(re.sub(r"[._+]+", "-", local))[:40].strip("-") or "workspace"
    return f"{base}-{secrets.token_hex(SUFFIX_HEX)}"


class SignupForm(AllauthSignupForm):
    workspace = forms.CharField(
        label="Workspace name",
        required=False,
        max_length=50,
        widget=forms.TextInput(attrs={"autocomplete": "organization", "placeholder": "acme"}),
    )
    field_order = ["email", "password1", "password2", "workspace"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        suffix = settings.TENANT_DOMAIN_SUFFIX
        self.fields["workspace"].help_text = (
            f"Optional. It names your workspace and gives its address: acme → "
            f"acme.{suffix}. Leave it empty and we make one from your email."
        )
        self.workspace_tenant: Tenant | None = None

    def clean_workspace(self) -> str:
        name = self.cleaned_data.get("workspace", "").strip()
        if not name:
            return ""
        slug = workspace_slug(name)
        try:
            check_slug(slug)
        except SlugReserved as exc:
            raise forms.ValidationError(f"“{slug}” is reserved: choose another name.") from exc
        except SlugInvalid as exc:
            raise forms.ValidationError(
                f"“{name}” cannot be an address: use 3 to 50 letters, digits or dashes, "
                "starting and ending with a letter or digit."
            ) from exc
        except SlugTaken as exc:
            raise forms.ValidationError(taken_message(slug)) from exc
        return name

    def save(self, request: HttpRequest) -> User:
        """User, email address and workspace, all or nothing. Raises SignupFailed."""
        email = self.cleaned_data["email"]
        try:
            with transaction.atomic():
                user = super().save(request)
                self.workspace_tenant = self._create_workspace(user)
        except SignupFailed:
            raise
        except IntegrityError as exc:
            # Another signup won a race for the same email (the workspace race is a
            # TenantError from create_workspace).
            if User.objects.filter(email__iexact=email).exists():
                raise SignupFailed("email", get_adapter().error_messages["email_taken"]) from exc
            logger.exception("accounts.signup_failed email_domain=%s", email.split("@")[-1])
            raise SignupFailed(None, UNAVAILABLE) from exc
        except Exception as exc:
            # Half-way failures (the schema clone, a lost connection): the transaction
            # above rolled everything back, so the visitor may simply try again.
            logger.exception("accounts.signup_failed email_domain=%s", email.split("@")[-1])
            raise SignupFailed(None, UNAVAILABLE) from exc
        logger.info("accounts.signed_up user=%s tenant=%s", user.pk, self.workspace_tenant.slug)
        return user

    def _create_workspace(self, user: User) -> Tenant:
        name = self.cleaned_data.get("workspace", "")
        if name:
            try:
                return create_workspace(owner=user, name=name)
            except TenantError as exc:
                # Taken between clean() and now by a concurrent signup.
                raise SignupFailed("workspace", taken_message(workspace_slug(name))) from exc
        for attempt in range(DERIVED_ATTEMPTS):
            try:
                return create_workspace(owner=user, name=derived_workspace_name(user.email))
            except TenantError:
                if attempt == DERIVED_ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")
