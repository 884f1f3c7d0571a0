"""Webhook tests: events signed by the fake Stripe (tests/fakes/stripe_server.py) go through
dj-stripe's real view; the handlers re-fetch from the same fake.

Two ways to run: `stripe_fake` (the test's transaction, deliveries through the test client)
for most rules, and `committed_stripe` (committed rows, deliveries from any thread, each
with its own database connection) where the gateway's reservation or concurrent
deliveries need other connections to see the rows."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import stripe
from django.db import connection
from django.test import Client

from tests.billing.conftest import Made
from tests.fakes.stripe_server import FakeStripe
from tests.support.stripe import (
    LIVE_WEBHOOK_UUID,
    _remove_djstripe_rows,
    client_sender,
    ensure_endpoint,
    point_at,
    stripe_fake,  # noqa: F401
    stripe_server,  # noqa: F401
    webhook_path,
)


@dataclass
class Committed:
    """The fake Stripe for committed-data tests: `send` delivers an event from the calling
    thread (own connection); `made` removes the tenants and products afterwards."""

    fake: FakeStripe
    made: Made
    path: str

    def send(self, event: dict[str, Any]) -> int:
        body, headers = self.fake.signed(event)
        try:
            return client_sender(Client(), self.path)(body, headers)
        finally:
            connection.close()  # a thread's connection, or the test's: reopened on use


@pytest.fixture
def committed_stripe(
    stripe_server: FakeStripe,  # noqa: F811
    settings: Any,
    django_db_setup: Any,
    django_db_blocker: Any,
    made: Made,
) -> Iterator[Committed]:
    fake = stripe_server
    fake.reset()
    previous_base = stripe.api_base
    point_at(fake, settings, LIVE_WEBHOOK_UUID)
    path = webhook_path(LIVE_WEBHOOK_UUID)
    with django_db_blocker.unblock():
        endpoint = ensure_endpoint(fake, LIVE_WEBHOOK_UUID)
        fake.set_webhook(sender=_committed_sender(path))
        try:
            yield Committed(fake, made, path)
        finally:
            fake.set_webhook(None)
            stripe.api_base = previous_base
            with connection.cursor() as cur:
                for t in made.tenants:
                    for table in ("billing_billingaccount", "billing_overagereport"):
                        cur.execute(f"DELETE FROM public.{table} WHERE tenant_id = %s", [t.pk])
            _remove_djstripe_rows(fake, endpoint)


def _committed_sender(path: str) -> Callable[[bytes, dict[str, str]], int]:
    def send(body: bytes, headers: dict[str, str]) -> int:
        return client_sender(Client(), path)(body, headers)

    return send
