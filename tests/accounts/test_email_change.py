"""Changing the email address: the new one replaces the old once confirmed from its inbox."""

from __future__ import annotations

from typing import Any

from allauth.account.models import EmailAddress
from django.core import mail
from django.test import Client

from apps.accounts.models import User
from tests.accounts.flows import (
    STRONG_PASSWORD,
    confirmation_path,
    form_errors,
    login,
    verified_user,
)


def test_a_new_address_replaces_the_old_once_confirmed(client: Client, db: Any) -> None:
    user = verified_user("pat@example.com")
    login(client, "pat@example.com")

    page = client.get("/accounts/email/")
    assert page.status_code == 200
    assert b"pat@example.com" in page.content
    response = client.post("/accounts/email/", {"action_add": "", "email": "pat@new.example"})
    # A signed-in browser alone cannot change the login: it takes the password again.
    assert response["Location"] == "/accounts/reauthenticate/?next=%2Faccounts%2Femail%2F"
    assert mail.outbox == []
    page = client.get(response["Location"])
    assert b"Confirm it is you" in page.content
    wrong = client.post(response["Location"], {"password": "not-it"})
    assert form_errors(wrong, "password")
    response = client.post(response["Location"], {"password": STRONG_PASSWORD})
    assert response.status_code == 302
    page = client.get("/accounts/email/")
    assert b"Changing to" in page.content
    user.refresh_from_db()
    assert user.email == "pat@example.com"  # not before it is confirmed

    [message] = [m for m in mail.outbox if m.to == ["pat@new.example"]]
    client.post(confirmation_path(message))

    user.refresh_from_db()
    assert user.email == "pat@new.example"
    assert list(EmailAddress.objects.filter(user=user).values_list("email", "verified")) == [
        ("pat@new.example", True)
    ]
    assert login(Client(), "pat@new.example")["Location"] == "/app/"


def test_an_address_of_another_account_is_refused(client: Client, db: Any) -> None:
    verified_user("quinn@example.com")
    verified_user("rae@example.com")
    login(client, "quinn@example.com")
    client.post("/accounts/reauthenticate/", {"password": STRONG_PASSWORD})

    response = client.post("/accounts/email/", {"action_add": "", "email": "rae@example.com"})

    assert form_errors(response, "email") == [
        "A user is already registered with this email address."
    ]
    assert User.objects.get(email="quinn@example.com")


def test_the_account_pages_need_a_signed_in_user(client: Client, db: Any) -> None:
    for path in ("/accounts/email/", "/accounts/password/change/"):
        response = client.get(path)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/?next=")
