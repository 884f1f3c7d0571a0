"""Mail settings come from the environment: SMTP once EMAIL_HOST is set (production), the
console otherwise (development). Read in a fresh interpreter, as a deployment would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHOW = (
    "import json, cloudfreedom.settings.production as s; print(json.dumps({k: getattr(s, k) "
    "for k in ('EMAIL_BACKEND', 'EMAIL_HOST', 'EMAIL_PORT', 'EMAIL_HOST_USER', "
    "'EMAIL_HOST_PASSWORD', 'EMAIL_USE_TLS', 'EMAIL_USE_SSL', 'EMAIL_TIMEOUT', "
    "'ACCOUNT_EMAIL_SUBJECT_PREFIX')}))"
)


def production_mail_settings(**env: str) -> dict[str, object]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("EMAIL_")}
    clean.update(
        DJANGO_SECRET_KEY="x",
        API_KEY_HMAC_SECRET="x",
        CREDENTIALS_ENCRYPTION_KEY="x",
        PYTHONPATH=str(ROOT),
        **env,
    )
    command = [sys.executable, "-c", SHOW]
    out = subprocess.run(command, cwd=ROOT, env=clean, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_smtp_is_configured_from_the_environment() -> None:
    settings = production_mail_settings(
        EMAIL_HOST="smtp.example.net",
        EMAIL_HOST_USER="mailer",
        EMAIL_HOST_PASSWORD="smtp-secret",
        EMAIL_TIMEOUT="7",
    )

    assert settings == {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "smtp.example.net",
        "EMAIL_PORT": 587,
        "EMAIL_HOST_USER": "mailer",
        "EMAIL_HOST_PASSWORD": "smtp-secret",
        "EMAIL_USE_TLS": True,
        "EMAIL_USE_SSL": False,
        "EMAIL_TIMEOUT": 7,
        "ACCOUNT_EMAIL_SUBJECT_PREFIX": "[CloudFreedom] ",
    }


def test_implicit_tls_takes_port_465_and_turns_starttls_off() -> None:
    settings = production_mail_settings(EMAIL_HOST="smtp.example.net", EMAIL_USE_SSL="true")

    assert (settings["EMAIL_PORT"], settings["EMAIL_USE_SSL"], settings["EMAIL_USE_TLS"]) == (
        465,
        True,
        False,
    )


def test_without_a_host_mail_goes_to_the_console() -> None:
    settings = production_mail_settings()

    assert settings["EMAIL_BACKEND"] == "django.core.mail.backends.console.EmailBackend"
