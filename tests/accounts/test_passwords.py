"""Resetting a forgotten password by mail, and changing it while signed in."""

from __future__ import annotations

from typing import Any

from django.core import mail
from django.test import Client

from apps.accounts.models import User
from tests.accounts.flows import STRONG_PASSWORD, form_errors, links_in, login, verified_user

NEW_PASSWORD = "another-Long-phrase-42"


def test_a_password_reset_mail_sets_a_new_password(client: Client, db: Any) -> None:
    verified_user("ned@example.com")

    response = client.post("/accounts/password/reset/", {"email": "ned@example.com"})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/password/reset/done/"
    [message] = mail.outbox
    assert message.subject == "[CloudFreedom] Reset your password"
    [link] = [u for u in links_in(message) if "/accounts/password/reset/key/" in u]
    path = "/" + link.split("/", 3)[3]

    form_page = client.get(path, follow=True)  # allauth moves the key into the session
    assert b"Choose a new password" in form_page.content
    action = form_page.redirect_chain[-1][0]
    response = client.post(action, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})

    assert response.status_code == 302
    assert response["Location"] == "/accounts/password/reset/key/done/"
    user = User.objects.get(email="ned@example.com")
    assert user.check_password(NEW_PASSWORD)
    assert login(Client(), "ned@example.com", NEW_PASSWORD)["Location"] == "/app/"
    # The link works once.
    assert b"Link no longer valid" in Client().get(path, follow=True).content


def test_a_reset_for_an_unknown_address_says_so(client: Client, db: Any) -> None:
    response = client.post("/accounts/password/reset/", {"email": "nobody@example.com"})

    assert form_errors(response, "email") == [
        "The email address is not assigned to any user account."
    ]
    assert mail.outbox == []


def test_a_reset_for_a_service_user_sends_nothing(client: Client, db: Any) -> None:
    from apps.accounts.services import ensure_service_user

    ensure_service_user("proxy")

    client.post("/accounts/password/reset/", {"email": "proxy@service.invalid"})

    assert mail.outbox == []


def test_a_signed_in_user_changes_their_password(client: Client, db: Any) -> None:
    user = verified_user("ola@example.com")
    login(client, "ola@example.com")

    page = client.get("/accounts/password/change/")
    assert page.status_code == 200
    assert b"Dashboard" in page.content  # the way back
    wrong = client.post(
        "/accounts/password/change/",
        {"oldpassword": "not-it", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert form_errors(wrong, "oldpassword") == ["Please type your current password."]
    weak = client.post(
        "/accounts/password/change/",
        {"oldpassword": STRONG_PASSWORD, "password1": "12345678", "password2": "12345678"},
    )
    assert form_errors(weak, "password1")
    response = client.post(
        "/accounts/password/change/",
        {"oldpassword": STRONG_PASSWORD, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )

    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert client.session["_auth_user_id"] == str(user.pk)  # still signed in here
    [notice] = mail.outbox  # and told by mail, in case it was not them
    assert notice.to == ["ola@example.com"]
