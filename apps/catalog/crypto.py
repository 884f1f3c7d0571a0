"""Encryption of provider credentials stored in the database (Fernet, key from settings)."""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings


def _fernet() -> Fernet:
    # Any string secret becomes a valid Fernet key through SHA-256.
    digest = hashlib.sha256(settings.CREDENTIALS_ENCRYPTION_KEY.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def encrypt(plaintext: str) -> str:
    return _fernet().encrypt(plaintext.encode()).decode() if plaintext else ""


def decrypt(token: str) -> str:
    if not token:
        return ""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        # A rotated encryption key: the credential must be entered again, never guessed.
        return ""
