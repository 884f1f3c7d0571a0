"""Signing in and out, and the limit on failed sign-ins."""

from __future__ import annotations

from typing import Any

from django.test import Client

from tests.accounts.flows import STRONG_PASSWORD, form_errors, login, verified_user

TOO_MANY = "Too many failed login attempts. Try again later."


def test_a_verified_user_signs_in_and_lands_on_the_dashboard(client: Client, db: Any) -> None:
    user = verified_user("hal@example.com")

    response = login(client, "HAL@example.com")

    assert response.status_code == 302
    assert response["Location"] == "/app/"
    assert client.session["_auth_user_id"] == str(user.pk)


def test_remember_me_decides_how_long_the_session_lasts(db: Any) -> None:
    verified_user("ida@example.com")
    forgetful, remembering = Client(), Client()

    login(forgetful, "ida@example.com")
    login(remembering, "ida@example.com", remember="on")

    assert forgetful.session.get_expire_at_browser_close()
    assert not remembering.session.get_expire_at_browser_close()


def test_a_wrong_password_is_a_form_error(client: Client, db: Any) -> None:
    verified_user("jon@example.com")

    response = login(client, "jon@example.com", "wrong-password")

    assert response.status_code == 200
    assert form_errors(response) == [
        "The email address and/or password you specified are not correct."
    ]
    assert "_auth_user_id" not in client.session


def test_the_sixth_failed_sign_in_for_an_email_is_refused(client: Client, db: Any) -> None:
    verified_user("kim@example.com")
    for _ in range(5):
        response = login(client, "kim@example.com", "guess")
        assert TOO_MANY not in form_errors(response)

    response = login(Client(), "kim@example.com", "guess")  # a fresh browser changes nothing
    assert form_errors(response) == [TOO_MANY]
    # Not even the right password gets in while the limit holds...
    response = login(client, "kim@example.com", STRONG_PASSWORD)
    assert form_errors(response) == [TOO_MANY]
    assert "_auth_user_id" not in client.session
    # ...while another account is not affected.
    verified_user("lee@example.com")
    assert login(Client(), "lee@example.com").status_code == 302


def test_signing_out_ends_the_session(client: Client, db: Any) -> None:
    verified_user("max@example.com")
    login(client, "max@example.com")

    page = client.get("/accounts/logout/")
    assert page.status_code == 200
    assert b"Sign out of CloudFreedom" in page.content
    response = client.post("/accounts/logout/")

    assert response.status_code == 302
    assert "_auth_user_id" not in client.session
