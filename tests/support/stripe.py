"""Fixtures that point the `stripe` library and dj-stripe at the fake Stripe API
(tests/fakes/stripe_server.py). Import them in a conftest:

    from tests.support.stripe import stripe_fake, stripe_server  # noqa: F401

`stripe_server` (session scope) runs one FakeStripe for the whole run. `stripe_fake`
(function scope, needs the `db` fixture) resets it, points everything at it for one test
and ensures the dj-stripe webhook endpoint in the test's transaction; events the fake
delivers (`pay_checkout`, `renew`, `deliver`, …) are POSTed through Django's test client
to `/stripe/webhook/<uuid>/`, in-process, so they see the test's uncommitted rows.

For a live server (tests/support/live.py LiveGateway, committed data), use
`live_webhooks(fake, base_url)` instead: it commits the endpoint, sends events over HTTP to
`base_url` and removes the endpoint and the dj-stripe rows the events made afterwards.

`signed_post(client, fake, event)` posts one event signed like Stripe with any test client.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any
from uuid import UUID

import pytest
import stripe
from django.apps import apps as django_apps
from django.db.models import CharField, ProtectedError
from django.test import Client
from django.test.client import Client as ClientType
from django.utils import timezone

from tests.fakes.stripe_server import TEST_WEBHOOK_SECRET, FakeStripe, Sender

# Fixed uuids: the webhook URLs are predictable in test output. The live one differs so a
# committed endpoint never collides with one made inside a test's transaction.
WEBHOOK_UUID = UUID("5f7a1c2e-0000-4000-8000-00000000c0de")
LIVE_WEBHOOK_UUID = UUID("5f7a1c2e-0000-4000-8000-0000000011fe")
PUBLIC_HOST = "localhost"  # the public site's host: dj-stripe's webhook URL lives there


def webhook_path(uuid: UUID) -> str:
    return f"/stripe/webhook/{uuid}/"


def client_sender(client: ClientType, path: str) -> Sender:
    """Deliver through Django's test client (in-process, the test's transaction)."""

    def send(body: bytes, headers: dict[str, str]) -> int:
        extra = {k: v for k, v in headers.items() if k.lower() != "content-type"}
        response = client.post(
            path,
            data=body,
            content_type=headers["Content-Type"],
            headers=extra,
            HTTP_HOST=PUBLIC_HOST,
        )
        return int(response.status_code)

    return send


def signed_post(
    client: ClientType,
    fake: FakeStripe,
    event: dict[str, Any],
    *,
    signature: bool | str | None = True,
    path: str | None = None,
) -> Any:
    """POST `event` as Stripe would (signature True, "bad" or None); returns the response."""
    body, headers = fake.signed(event, signature=signature)
    extra = {k: v for k, v in headers.items() if k.lower() != "content-type"}
    return client.post(
        path or webhook_path(WEBHOOK_UUID),
        data=body,
        content_type=headers["Content-Type"],
        headers=extra,
        HTTP_HOST=PUBLIC_HOST,
    )


def point_at(fake: FakeStripe, settings: Any, uuid: UUID) -> None:
    """Settings and the `stripe` module for `fake` (pytest-django's `settings` undoes the
    settings; the caller restores `stripe.api_base`)."""
    settings.STRIPE_LIVE_MODE = False
    settings.STRIPE_TEST_SECRET_KEY = fake.api_key
    settings.STRIPE_API_BASE = fake.url
    settings.STRIPE_WEBHOOK_SECRET = fake.webhook_secret
    settings.STRIPE_WEBHOOK_UUID = str(uuid)
    stripe.api_base = fake.url


def ensure_endpoint(fake: FakeStripe, uuid: UUID) -> Any:
    from apps.billing.stripe_webhooks import ensure_webhook_endpoint

    return ensure_webhook_endpoint(secret=fake.webhook_secret, uuid=uuid)


@pytest.fixture(scope="session")
def stripe_server() -> Iterator[FakeStripe]:
    with FakeStripe(webhook_secret=TEST_WEBHOOK_SECRET) as fake:
        yield fake


@pytest.fixture
def stripe_fake(stripe_server: FakeStripe, settings: Any, db: Any) -> Iterator[FakeStripe]:
    """The fake Stripe, empty, with everything pointed at it and webhooks delivered
    in-process through the test client (see the module docstring)."""
    fake = stripe_server
    fake.reset()
    previous_base = stripe.api_base
    point_at(fake, settings, WEBHOOK_UUID)
    ensure_endpoint(fake, WEBHOOK_UUID)
    fake.set_webhook(sender=client_sender(Client(), webhook_path(WEBHOOK_UUID)))
    try:
        yield fake
    finally:
        fake.set_webhook(None)
        stripe.api_base = previous_base


@contextlib.contextmanager
def live_webhooks(
    fake: FakeStripe, base_url: str, settings: Any, django_db_blocker: Any
) -> Iterator[FakeStripe]:
    """Deliver `fake`'s events over HTTP to a live server at `base_url` (committed data).

    Commits the webhook endpoint, and afterwards deletes it with the triggers, events and
    dj-stripe copies of the fake's objects the deliveries made."""
    previous_base = stripe.api_base
    point_at(fake, settings, LIVE_WEBHOOK_UUID)
    with django_db_blocker.unblock():
        endpoint = ensure_endpoint(fake, LIVE_WEBHOOK_UUID)
    fake.set_webhook(url=base_url.rstrip("/") + webhook_path(LIVE_WEBHOOK_UUID))
    started = timezone.now()
    try:
        yield fake
    finally:
        fake.set_webhook(None)
        stripe.api_base = previous_base
        with django_db_blocker.unblock():
            _remove_djstripe_rows(fake, endpoint, since=started)


def _remove_djstripe_rows(fake: FakeStripe, endpoint: Any, since: Any = None) -> None:
    from djstripe.models import APIKey, WebhookEventTrigger

    WebhookEventTrigger.objects.filter(webhook_endpoint=endpoint).delete()
    if since is not None:
        # A delivery still running when a test gave up ends after its endpoint is gone.
        WebhookEventTrigger.objects.filter(webhook_endpoint=None, created__gte=since).delete()
    APIKey.objects.filter(secret=fake.api_key).delete()  # dj-stripe stores the key it used
    ids = set(fake.objects) | {fake.account_id}
    models = [
        m
        for m in django_apps.get_app_config("djstripe").get_models()
        if any(f.name == "id" and isinstance(f, CharField) for f in m._meta.fields)
    ]
    # Foreign keys between dj-stripe's tables: retry what a reference still protects.
    for _ in range(3):
        left = False
        for model in models:
            try:
                model.objects.filter(id__in=ids).delete()
            except ProtectedError:
                left = True
        if not left:
            break
    endpoint.delete()
