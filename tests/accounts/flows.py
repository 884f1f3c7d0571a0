"""What a visitor does on the account pages, as test-client steps."""

from __future__ import annotations

import re
from typing import Any

from django.core import mail
from django.core.cache import cache
from django.test import Client

STRONG_PASSWORD = "correct-Horse-battery-9"
LINK_RE = re.compile(r"https?://\S+")


def clear_rate_limits() -> None:
    """Drop allauth's rate-limit counters (keys `…:allauth:rl:…`), nothing else."""
    client = cache._cache.get_client()  # type: ignore[attr-defined]
    keys = list(client.scan_iter(match="*:allauth:rl:*", count=1000))
    if keys:
        client.delete(*keys)


def signup(
    client: Client,
    email: str,
    *,
    password: str = STRONG_PASSWORD,
    password2: str | None = None,
    workspace: str = "",
    **extra: Any,
) -> Any:
    return client.post(
        "/accounts/signup/",
        {
            "email": email,
            "password1": password,
            "password2": password if password2 is None else password2,
            "workspace": workspace,
        },
        **extra,
    )


def links_in(message: mail.EmailMessage) -> list[str]:
    return LINK_RE.findall(str(message.body))


def confirmation_path(message: mail.EmailMessage) -> str:
    """The path of the verification link in a mail (the test client has no host part)."""
    [link] = [u for u in links_in(message) if "/accounts/confirm-email/" in u]
    return "/" + link.split("/", 3)[3]


def form_errors(response: Any, field: str | None = None) -> list[str]:
    form = response.context["form"]
    if field is None:
        return list(form.non_field_errors())
    return list(form.errors.get(field, []))


def verified_user(email: str, password: str = STRONG_PASSWORD) -> Any:
    """A user who signed up and confirmed their address earlier."""
    from allauth.account.models import EmailAddress

    from apps.accounts.models import User

    user = User.objects.create_user(email, password)
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    return user


def login(client: Client, email: str, password: str = STRONG_PASSWORD, **extra: Any) -> Any:
    return client.post("/accounts/login/", {"login": email, "password": password, **extra})
