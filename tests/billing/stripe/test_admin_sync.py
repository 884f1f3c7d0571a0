"""Staff push and pull products from the admin changelist and the command line."""

from __future__ import annotations

from decimal import Decimal
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from apps.billing import stripe_api
from apps.catalog.models import Product
from tests.fakes.stripe_server import FakeStripe
from tests.support import factories

URL = "/admin/catalog/product/"


@pytest.fixture
def staff_client(db: Any, client: Any) -> Any:
    client.force_login(factories.user(is_staff=True, is_superuser=True))
    return client


def _act(client: Any, action: str, *products: Product) -> list[str]:
    page = client.post(
        URL,
        {"action": action, "_selected_action": [p.pk for p in products]},
        HTTP_HOST="localhost",
        follow=True,
    )
    assert page.status_code == 200
    return [str(m) for m in page.context["messages"]]


def test_staff_push_and_pull_from_the_changelist(
    stripe_fake: FakeStripe, staff_client: Any
) -> None:
    plan = factories.product(name="Pro", monthly_price=Decimal("20"), overage_cap=Decimal("5"))
    page = staff_client.get(URL, HTTP_HOST="localhost")
    assert page.status_code == 200
    assert b"Push to Stripe" in page.content and b"Pull from Stripe" in page.content

    [message] = _act(staff_client, "push_to_stripe", plan)
    plan.refresh_from_db()
    assert message.startswith("Pro: created product " + plan.stripe_product_id)
    assert plan.stripe_price_id and plan.stripe_overage_price_id

    stripe_api.create_product(name="Elsewhere", description="", active=True, metadata={})
    messages = _act(staff_client, "pull_from_stripe", plan)
    assert messages[0] == "Pro: no changes"
    assert messages[1].startswith("In Stripe but not in the catalog (not imported): prod_")
    assert "Elsewhere" in messages[1] and len(messages) == 2


def test_the_actions_say_when_stripe_is_not_configured(
    stripe_fake: FakeStripe, staff_client: Any, settings: Any
) -> None:
    settings.STRIPE_TEST_SECRET_KEY = ""
    plan = factories.product(name="Pro")
    assert _act(staff_client, "push_to_stripe", plan) == [
        "Stripe is not configured (no secret key for this mode)."
    ]
    assert stripe_fake.calls == []


def test_a_failed_push_is_an_error_message_without_the_key(
    stripe_fake: FakeStripe, staff_client: Any, settings: Any
) -> None:
    settings.STRIPE_TEST_SECRET_KEY = "sk_test_NotTheFakesKeyNotTheFakesKey9876"
    plan = factories.product(name="Pro")
    [message] = _act(staff_client, "push_to_stripe", plan)
    assert message == "Pro: list products: Stripe rejected the API key"
    assert "9876" not in message


def test_the_command_pushes_and_pulls(stripe_fake: FakeStripe) -> None:
    plan = factories.product(name="Cmd plan", monthly_price=Decimal("7.00"))
    out = StringIO()
    call_command("stripe_sync", "push", "--product", plan.slug, stdout=out)
    plan.refresh_from_db()
    assert out.getvalue().startswith(f"Cmd plan: created product {plan.stripe_product_id}")
    out = StringIO()
    call_command("stripe_sync", "pull", "--product", plan.slug, stdout=out)
    assert out.getvalue() == "Cmd plan: no changes\n"
    with pytest.raises(CommandError, match="No such product: nope"):
        call_command("stripe_sync", "push", "--product", "nope")
