"""Stripe tests run against the fake Stripe API (tests/support/stripe.py)."""

from tests.support.stripe import stripe_fake, stripe_server  # noqa: F401
