"""Provider credentials that do not decrypt are an error, never an empty key."""

from __future__ import annotations

import pytest
from django.test import override_settings

from apps.catalog import crypto
from apps.catalog.models import Provider, ProviderKind


def test_it_round_trips_and_keeps_no_credential_empty() -> None:
    assert crypto.decrypt(crypto.encrypt("sk-secret")) == "sk-secret"
    assert crypto.decrypt("") == ""


def test_a_credential_encrypted_under_another_key_is_unreadable() -> None:
    with override_settings(CREDENTIALS_ENCRYPTION_KEY="the-old-key"):
        token = crypto.encrypt("sk-secret")
    with pytest.raises(crypto.CredentialUnreadable):
        crypto.decrypt(token)
    with pytest.raises(crypto.CredentialUnreadable):
        crypto.decrypt("not a fernet token")


def test_the_environment_variable_wins_over_an_unreadable_stored_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    provider = Provider(name="p", kind=ProviderKind.OPENAI, api_key_encrypted="garbage")
    with pytest.raises(crypto.CredentialUnreadable):
        provider.get_api_key()
    monkeypatch.setenv("CF_TEST_PROVIDER_KEY", "sk-from-env")
    provider.api_key_env = "CF_TEST_PROVIDER_KEY"
    assert provider.get_api_key() == "sk-from-env"
