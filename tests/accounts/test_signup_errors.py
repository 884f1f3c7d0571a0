"""Bad input at signup is a form error on the right field, and leaves no user behind."""

from __future__ import annotations

from typing import Any

import pytest
from allauth.account.models import EmailAddress
from django.conf import settings
from django.core import mail
from django.test import Client

from apps.accounts.forms import SignupForm
from apps.accounts.models import User
from apps.tenants.models import Tenant
from apps.tenants.services import create_tenant
from tests.accounts.flows import form_errors, signup
from tests.support import factories


def assert_nothing_for(email: str) -> None:
    assert not User.objects.filter(email=email).exists()
    assert not EmailAddress.objects.filter(email=email).exists()


def test_a_taken_email_is_a_form_error(client: Client, db: Any) -> None:
    factories.user("taken@example.com")
    tenants = Tenant.objects.count()

    response = signup(client, "Taken@Example.com", workspace="taken-ws")

    assert response.status_code == 200
    assert form_errors(response, "email") == [
        "A user is already registered with this email address."
    ]
    assert User.objects.filter(email__iexact="taken@example.com").count() == 1
    assert Tenant.objects.count() == tenants
    assert mail.outbox == []


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short1", "This password is too short. It must contain at least 8 characters."),
        ("password123", "This password is too common."),
        ("83927461520", "This password is entirely numeric."),
    ],
)
def test_a_weak_password_is_a_form_error(
    client: Client, db: Any, password: str, message: str
) -> None:
    response = signup(client, "weak@example.com", password=password)

    assert response.status_code == 200
    assert message in form_errors(response, "password1")
    assert_nothing_for("weak@example.com")


def test_the_two_passwords_must_match(client: Client, db: Any) -> None:
    response = signup(client, "typo@example.com", password2="correct-Horse-battery-8")

    assert form_errors(response, "password2") == ["You must type the same password each time."]
    assert_nothing_for("typo@example.com")


def test_a_taken_workspace_address_is_a_form_error(client: Client, db: Any) -> None:
    create_tenant(name="Acme", slug="acme", self_service=True)

    response = signup(client, "late@example.com", workspace="ACME")

    assert response.status_code == 200
    assert form_errors(response, "workspace") == [
        f"The address acme.{settings.TENANT_DOMAIN_SUFFIX} is taken: choose another name."
    ]
    assert_nothing_for("late@example.com")


@pytest.mark.parametrize("name", ["ab", "!!!", "admin", "www", "-", "x" * 51])
def test_an_invalid_workspace_address_is_a_form_error(client: Client, db: Any, name: str) -> None:
    response = signup(client, "odd@example.com", workspace=name)

    assert response.status_code == 200
    assert form_errors(response, "workspace")
    assert_nothing_for("odd@example.com")


def test_a_workspace_taken_after_the_check_is_a_form_error_and_no_user_is_left(
    client: Client, db: Any, monkeypatch: Any
) -> None:
    """Another signup takes the address between clean() and save()."""
    original = SignupForm.clean_workspace

    def then_someone_else_takes_it(form: SignupForm) -> str:
        name = original(form)
        create_tenant(name="Race", slug="race-ws", self_service=True)
        return name

    monkeypatch.setattr(SignupForm, "clean_workspace", then_someone_else_takes_it)
    response = signup(client, "racer@example.com", workspace="race-ws")

    assert response.status_code == 200
    assert form_errors(response, "workspace") == [
        f"The address race-ws.{settings.TENANT_DOMAIN_SUFFIX} is taken: choose another name."
    ]
    assert_nothing_for("racer@example.com")
    assert Tenant.objects.filter(slug="race-ws").count() == 1
    assert mail.outbox == []


def test_an_email_taken_after_the_check_is_a_form_error(
    client: Client, db: Any, monkeypatch: Any
) -> None:
    """Two signups with one address at once: the second loses at the database."""
    original = SignupForm.clean_email

    def then_someone_else_takes_it(form: SignupForm) -> str:
        email = original(form)
        factories.user(email)
        return email

    monkeypatch.setattr(SignupForm, "clean_email", then_someone_else_takes_it)
    tenants = Tenant.objects.count()
    response = signup(client, "twice@example.com", workspace="twice-ws")

    assert response.status_code == 200
    assert form_errors(response, "email") == [
        "A user is already registered with this email address."
    ]
    assert User.objects.filter(email="twice@example.com").count() == 1
    assert Tenant.objects.count() == tenants


def test_a_service_address_cannot_sign_up(client: Client, db: Any) -> None:
    response = signup(client, "proxy@service.invalid")

    assert response.status_code == 200
    assert "cannot receive mail" in form_errors(response, "email")[0]
    assert_nothing_for("proxy@service.invalid")
