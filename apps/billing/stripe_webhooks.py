"""Stripe webhooks: the endpoint dj-stripe verifies signatures with, and the receivers that
turn verified events into billing effects (docs/billing.md has the rules).

dj-stripe's view (`/stripe/webhook/<uuid>/`) looks the endpoint up by its uuid, verifies
the `Stripe-Signature` header with the endpoint's stored secret, stores the event once by
its id and sends one signal per event type inside the same transaction. The receivers here
never trust the event's payload for state or money: they re-fetch the object from Stripe
(apps/billing/stripe_api.py) and apply its current state through apps/billing/subscriptions.py,
whose effects are idempotent by their own keys (invoice id, payment intent id).
"""

from __future__ import annotations

import logging
import uuid as uuid_module
from typing import Any
from uuid import UUID

import stripe
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.dispatch import receiver
from djstripe import signals as djstripe_signals
from djstripe.enums import WebhookEndpointStatus, WebhookEndpointValidation
from djstripe.event_handlers import djstripe_receiver
from djstripe.models import WebhookEndpoint, WebhookEventTrigger

from apps.billing import subscriptions

logger = logging.getLogger(__name__)

# dj-stripe, with DEBUG on, lets a request replace the endpoint's secret with its own
# `X-Djstripe-Webhook-Secret` header (meant for `stripe listen`). Anyone could then sign
# their own events: the header is dropped before validation, whatever DEBUG says.
CALLER_SECRET_HEADER = "x-djstripe-webhook-secret"  # noqa: S105 - a header name


def _local_endpoint_id(endpoint_uuid: UUID) -> str:
    # The row is made here, not read from Stripe: a recognisable id that cannot collide with
    # a real `we_…` id synced from the account.
    return f"we_local_{endpoint_uuid.hex}"


def webhook_path(endpoint_uuid: UUID | str) -> str:
    return f"/stripe/webhook/{endpoint_uuid}/"


def ensure_webhook_endpoint(
    secret: str | None = None, uuid: UUID | str | None = None
) -> WebhookEndpoint:
    """The dj-stripe `WebhookEndpoint` row that `/stripe/webhook/<uuid>/` verifies signatures
    with, created or updated offline (no Stripe call).

    `secret` defaults to settings.STRIPE_WEBHOOK_SECRET (the `whsec_…` Stripe shows for the
    endpoint), `uuid` to settings.STRIPE_WEBHOOK_UUID; without either uuid the existing
    local endpoint is kept, else a new uuid is made (the URL to give Stripe is logged).
    Idempotent: a second call with the same values changes nothing."""
    secret = secret or getattr(settings, "STRIPE_WEBHOOK_SECRET", "")
    if not secret:
        raise ImproperlyConfigured("STRIPE_WEBHOOK_SECRET is not set: no webhook can verify.")
    uuid = uuid or getattr(settings, "STRIPE_WEBHOOK_UUID", None) or None
    livemode = bool(getattr(settings, "STRIPE_LIVE_MODE", False))
    with transaction.atomic():
        if uuid is not None:
            endpoint_uuid = UUID(str(uuid))
        else:
            existing = (
                WebhookEndpoint.objects.filter(id__startswith="we_local_", livemode=livemode)
                .order_by("djstripe_id")
                .first()
            )
            endpoint_uuid = existing.djstripe_uuid if existing else uuid_module.uuid4()
        site = getattr(settings, "SITE_URL", "") or "http://localhost"
        endpoint, created = WebhookEndpoint.objects.select_for_update().update_or_create(
            djstripe_uuid=endpoint_uuid,
            defaults={
                "id": _local_endpoint_id(endpoint_uuid),
                "livemode": livemode,
                "secret": secret,
                "api_version": settings.STRIPE_API_VERSION,
                "enabled_events": ["*"],
                "status": WebhookEndpointStatus.enabled,
                "url": site.rstrip("/") + webhook_path(endpoint_uuid),
                "djstripe_tolerance": stripe.Webhook.DEFAULT_TOLERANCE,
                # Always the signature: "none" or a re-fetch of the event is never used.
                "djstripe_validation_method": WebhookEndpointValidation.verify_signature,
            },
        )
    if created:
        logger.info("stripe.webhook_endpoint_created path=%s", webhook_path(endpoint_uuid))
    return endpoint


@receiver(djstripe_signals.webhook_pre_validate, dispatch_uid="billing.no_caller_secret")
def drop_caller_secret(sender: Any, instance: WebhookEventTrigger, **kwargs: Any) -> None:
    """Never verify with a secret the caller sent (dj-stripe would, with DEBUG on)."""
    headers = instance.headers or {}
    instance.headers = {k: v for k, v in headers.items() if k.lower() != CALLER_SECRET_HEADER}


# --- Event receivers (dj-stripe sends one signal per event type, inside its transaction) --
# dj-stripe's own handlers (connected first) sync its copies of the objects; these apply
# the billing effects. An exception rolls the event back and answers 500, so Stripe retries
# it (a Stripe call that failed); an event that names no tenant of ours is logged, not raised.


def _object_id(event: Any) -> str:
    return str((event.data or {}).get("object", {}).get("id") or "")


@djstripe_receiver(
    [
        "customer.subscription.created",
        "customer.subscription.updated",
        "customer.subscription.deleted",
        "customer.subscription.paused",
        "customer.subscription.resumed",
    ]
)
def on_subscription_event(sender: Any, event: Any, **kwargs: Any) -> None:
    subscription_id = _object_id(event)
    if subscription_id:
        subscriptions.sync_subscription(subscription_id)


@djstripe_receiver("invoice.paid")
def on_invoice_paid(sender: Any, event: Any, **kwargs: Any) -> None:
    invoice_id = _object_id(event)
    if invoice_id:
        subscriptions.apply_paid_invoice(invoice_id)


@djstripe_receiver(["checkout.session.completed", "checkout.session.async_payment_succeeded"])
def on_checkout_completed(sender: Any, event: Any, **kwargs: Any) -> None:
    session_id = _object_id(event)
    if session_id:
        subscriptions.apply_checkout_session(session_id)
