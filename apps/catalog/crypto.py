"""Encryption of provider credentials stored in the database (Fernet, key from settings)."""

from __future__ import annotations

import base64
import hashlib
import os

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings


class CredentialUnreadable(Exception):
    """A stored credential that does not decrypt (the encryption key was rotated, or the
    value was damaged). It must be entered again; it is never guessed, nor replaced by an
    empty key that an upstream would answer with 401s billed as our own failure."""


def _fernet() -> Fernet:
    # Any string secret becomes a valid Fernet key through SHA-256.
    digest = hashlib.sha256(settings.CREDENTIALS_ENCRYPTION_KEY.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def encrypt(plaintext: str) -> str:
    return _fernet().encrypt(plaintext.encode()).decode() if plaintext else ""


def decrypt(token: str) -> str:
    """The plaintext of `token` ("" for no stored credential); raises CredentialUnreadable."""
    if not token:
        return ""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except (InvalidToken, UnicodeDecodeError) as exc:
        raise CredentialUnreadable from exc


def resolve(api_key_env: str, encrypted: str) -> str:
    """A provider's credential: the named environment variable wins over the stored one.
    Raises CredentialUnreadable when the stored one is used and does not decrypt."""
    if api_key_env and os.environ.get(api_key_env):
        return os.environ[api_key_env]
    return decrypt(encrypted)
