"""allauth's adapter: the account rules that are ours rather than allauth's defaults."""

from __future__ import annotations

import logging
from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from django import forms

from apps.accounts.services import SERVICE_DOMAIN

logger = logging.getLogger(__name__)


def undeliverable(email: str) -> bool:
    """An address under the reserved `.invalid` top-level domain (RFC 2606), where service
    users live: no mail can reach it."""
    domain = email.rsplit("@", 1)[-1].lower()
    return domain == "invalid" or domain.endswith(".invalid")


class AccountAdapter(DefaultAccountAdapter):
    def clean_email(self, email: str) -> str:
        email = super().clean_email(email)
        if undeliverable(email):
            # Service users are recognised by their @service.invalid address: a person who
            # signed up (or changed their email) to one could pose as a service.
            raise forms.ValidationError(
                f"Addresses under .invalid (such as @{SERVICE_DOMAIN}) cannot receive mail; "
                "use a real address."
            )
        return email

    def send_mail(self, template_prefix: str, email: str, context: dict[str, Any]) -> None:
        if undeliverable(email):
            # e.g. a password reset asked for a service user: there is nobody to tell.
            logger.info("accounts.mail_skipped template=%s reason=undeliverable", template_prefix)
            return
        super().send_mail(template_prefix, email, context)
