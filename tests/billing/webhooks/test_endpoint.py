"""The webhook endpoint row comes from the settings, offline, and follows a new secret."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest
from django.core.exceptions import ImproperlyConfigured
from djstripe.models import WebhookEndpoint

from apps.billing.stripe_webhooks import ensure_webhook_endpoint

ENDPOINT = UUID("0b5e7c1a-0000-4000-8000-00000000e1e1")


def test_it_makes_the_endpoint_from_the_settings_and_follows_a_new_secret(
    db: Any, settings: Any
) -> None:
    settings.STRIPE_WEBHOOK_SECRET = "whsec_first"
    settings.STRIPE_WEBHOOK_UUID = str(ENDPOINT)

    first = ensure_webhook_endpoint()
    settings.STRIPE_WEBHOOK_SECRET = "whsec_rotated"
    second = ensure_webhook_endpoint()

    assert first.pk == second.pk
    assert WebhookEndpoint.objects.filter(djstripe_uuid=ENDPOINT).count() == 1
    row = WebhookEndpoint.objects.get(djstripe_uuid=ENDPOINT)
    assert row.secret == "whsec_rotated"
    assert row.url.endswith(f"/stripe/webhook/{ENDPOINT}/")
    assert str(row.djstripe_validation_method) == "verify_signature"


def test_without_a_uuid_it_keeps_the_endpoint_it_made(db: Any, settings: Any) -> None:
    settings.STRIPE_WEBHOOK_UUID = ""
    made = ensure_webhook_endpoint(secret="whsec_a")

    again = ensure_webhook_endpoint(secret="whsec_b")

    assert again.djstripe_uuid == made.djstripe_uuid
    assert WebhookEndpoint.objects.get(pk=made.pk).secret == "whsec_b"


def test_without_a_secret_it_refuses(db: Any, settings: Any) -> None:
    settings.STRIPE_WEBHOOK_SECRET = ""
    before = WebhookEndpoint.objects.count()

    with pytest.raises(ImproperlyConfigured):
        ensure_webhook_endpoint()
    assert WebhookEndpoint.objects.count() == before
