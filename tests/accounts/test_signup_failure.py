"""A signup that fails half-way through making the workspace (here: right after the schema
clone) shows a clear error and leaves nothing: no user, email address, tenant, schema,
domain, membership or budget."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from allauth.account.models import EmailAddress
from django.core import mail
from django.db import DatabaseError
from django.test import Client
from django_tenants.utils import schema_exists

from apps.accounts.forms import UNAVAILABLE
from apps.accounts.models import User
from apps.billing.models import Budget, LedgerEntry
from apps.tenants.models import Domain, Membership, Tenant
from apps.tenants.services import schema_name_for
from tests.accounts.flows import form_errors, signup

MODELS = (User, EmailAddress, Tenant, Domain, Membership, Budget, LedgerEntry)


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in MODELS}


def test_a_failed_clone_leaves_nothing_behind(
    client: Client, db: Any, monkeypatch: Any, settings: Any
) -> None:
    # A credit grant would be one more thing to leave behind.
    settings.SIGNUP_CREDIT = Decimal("1.00")
    cloned: list[str] = []
    create_schema = Tenant.create_schema

    def clone_then_fail(self: Tenant, *args: Any, **kwargs: Any) -> None:
        create_schema(self, *args, **kwargs)
        cloned.append(self.schema_name)
        assert schema_exists(self.schema_name)  # really made, so the rollback must undo it
        raise DatabaseError("connection lost while cloning")

    monkeypatch.setattr(Tenant, "create_schema", clone_then_fail)
    before = counts()

    response = signup(client, "half@example.com", workspace="half-made")

    assert response.status_code == 200
    assert form_errors(response) == [UNAVAILABLE]
    assert "nothing was saved" in response.content.decode()
    assert cloned == [schema_name_for("half-made")]
    assert counts() == before
    assert not schema_exists(schema_name_for("half-made"))
    assert mail.outbox == []
    assert "_auth_user_id" not in client.session


def test_any_error_in_the_workspace_is_a_form_error_not_a_500(
    client: Client, db: Any, monkeypatch: Any
) -> None:
    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("a bug in a signal receiver")

    monkeypatch.setattr("apps.accounts.forms.create_workspace", broken)
    before = counts()

    response = signup(client, "bug@example.com")

    assert response.status_code == 200
    assert form_errors(response) == [UNAVAILABLE]
    assert counts() == before


def test_the_same_address_works_once_the_failure_is_gone(
    client: Client, db: Any, monkeypatch: Any
) -> None:
    with monkeypatch.context() as patch:
        patch.setattr(
            Tenant, "create_schema", lambda *a, **k: (_ for _ in ()).throw(DatabaseError("x"))
        )
        assert signup(client, "retry@example.com", workspace="retry-ws").status_code == 200

    response = signup(client, "retry@example.com", workspace="retry-ws")

    assert response.status_code == 302
    assert Membership.objects.get(user__email="retry@example.com").tenant.slug == "retry-ws"
