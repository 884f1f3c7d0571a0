"""Only events signed with the endpoint's secret change anything, with DEBUG on or off."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from djstripe.models import Event

from apps.billing.models import LedgerEntry
from tests.billing.webhooks.stripe_flows import held, of_type, topup_checkout
from tests.fakes.stripe_server import FakeStripe, sign
from tests.support import factories
from tests.support.stripe import PUBLIC_HOST, WEBHOOK_UUID, signed_post, webhook_path


def _paid_topup_event(fake: FakeStripe) -> tuple[Any, dict[str, Any]]:
    tenant = factories.tenant(product=factories.product())
    with held(fake) as events:
        fake.pay_checkout(topup_checkout(fake, tenant, 2500))
    return tenant, of_type(events, "checkout.session.completed")[0]


def _purchases(tenant: Any) -> int:
    return LedgerEntry.objects.filter(tenant_id=tenant.pk, kind="credit_purchase").count()


@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize("signature", ["bad", None])
def test_it_refuses_a_bad_or_missing_signature_and_changes_nothing(
    stripe_fake: FakeStripe, settings: Any, debug: bool, signature: str | None
) -> None:
    settings.DEBUG = debug
    tenant, event = _paid_topup_event(stripe_fake)

    response = signed_post(Client(), stripe_fake, event, signature=signature)

    assert response.status_code == 400
    assert _purchases(tenant) == 0
    assert not Event.objects.filter(id=event["id"]).exists()
    # The same event, signed with the endpoint's secret, is applied: the refusal was the
    # signature's doing.
    assert signed_post(Client(), stripe_fake, event).status_code == 200
    assert _purchases(tenant) == 1


def test_it_never_verifies_with_a_secret_the_caller_sends(
    stripe_fake: FakeStripe, settings: Any
) -> None:
    # dj-stripe, with DEBUG on, would take this header's secret instead of the endpoint's.
    settings.DEBUG = True
    tenant, event = _paid_topup_event(stripe_fake)
    body, headers = stripe_fake.signed(event, signature=None)
    forged = "whsec_chosen_by_the_caller"

    response = Client().post(
        webhook_path(WEBHOOK_UUID),
        data=body,
        content_type=headers["Content-Type"],
        headers={"Stripe-Signature": sign(body, forged), "X-Djstripe-Webhook-Secret": forged},
        HTTP_HOST=PUBLIC_HOST,
    )

    assert response.status_code == 400
    assert _purchases(tenant) == 0
    assert not Event.objects.filter(id=event["id"]).exists()


def test_it_answers_404_for_an_unknown_endpoint(stripe_fake: FakeStripe) -> None:
    tenant, event = _paid_topup_event(stripe_fake)
    path = webhook_path("00000000-0000-4000-8000-000000000000")

    response = signed_post(Client(), stripe_fake, event, path=path)

    assert response.status_code == 404
    assert _purchases(tenant) == 0
