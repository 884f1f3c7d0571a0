"""Stripe object shapes for the fake Stripe API (tests/fakes/stripe_server.py).

The shapes follow API version 2026-08-26.dahlia (the version settings pin), as the stripe
library 15.x types them: a subscription's current period lives on its ITEMS (not on the
subscription), an invoice names its subscription under `parent.subscription_details`, an
invoice line names its price under `pricing.price_details` and its subscription under
`parent.subscription_item_details`. Request parameters arrive form-encoded, so every value
is a string here; the builders convert what Stripe would.

Keys starting with "_" are the fake's own bookkeeping and never leave the server.
"""

from __future__ import annotations

import calendar
import datetime as dt
import secrets
import string
import time
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

_ALNUM = string.ascii_letters + string.digits


def now() -> int:
    return int(time.time())


def new_id(prefix: str, length: int = 24) -> str:
    return f"{prefix}_" + "".join(secrets.choice(_ALNUM) for _ in range(length))


def to_bool(value: Any, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    return str(value).lower() == "true"


def to_int(value: Any, default: int | None = None) -> int | None:
    if value is None or value == "":
        return default
    return int(value)


def add_month(ts: int, months: int = 1) -> int:
    """The same day and time `months` later (clamped to the month's end), like Stripe."""
    moment = dt.datetime.fromtimestamp(ts, tz=dt.UTC)
    month0 = moment.month - 1 + months
    year, month = moment.year + month0 // 12, month0 % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return int(moment.replace(year=year, month=month, day=day).timestamp())


def list_object(data: list[dict[str, Any]], url: str, has_more: bool = False) -> dict[str, Any]:
    return {"object": "list", "data": data, "has_more": has_more, "url": url}


def merge_metadata(current: dict[str, str], update: Any) -> dict[str, str]:
    """Stripe's metadata update rule: keys merge, an empty value deletes a key and an empty
    metadata (`metadata=`) clears them all."""
    if update == "" or update is None:
        return {} if update == "" else dict(current)
    merged = dict(current)
    for key, value in update.items():
        if value == "":
            merged.pop(key, None)
        else:
            merged[key] = str(value)
    return merged


def account(account_id: str) -> dict[str, Any]:
    return {
        "id": account_id,
        "object": "account",
        "business_profile": {
            "mcc": None,
            "name": "CloudFreedom (test)",
            "support_email": None,
            "support_phone": None,
            "support_url": None,
            "url": None,
        },
        "business_type": None,
        "capabilities": {"card_payments": "active", "transfers": "active"},
        "charges_enabled": True,
        "controller": {"type": "account"},
        "country": "US",
        "created": 1700000000,
        "default_currency": "usd",
        "details_submitted": True,
        "email": "billing@example.com",
        "external_accounts": list_object([], f"/v1/accounts/{account_id}/external_accounts"),
        "metadata": {},
        "payouts_enabled": True,
        "settings": {
            "branding": {
                "icon": None,
                "logo": None,
                "primary_color": None,
                "secondary_color": None,
            },
            "dashboard": {"display_name": "CloudFreedom", "timezone": "Etc/UTC"},
            "payments": {"statement_descriptor": "CLOUDFREEDOM"},
        },
        "type": "standard",
    }


def customer(params: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": new_id("cus", 14),
        "object": "customer",
        "address": None,
        "balance": 0,
        "created": now(),
        "currency": None,
        "default_source": None,
        "delinquent": False,
        "description": params.get("description") or None,
        "discount": None,
        "email": params.get("email") or None,
        "invoice_prefix": new_id("X", 6)[2:].upper(),
        "invoice_settings": {
            "custom_fields": None,
            "default_payment_method": None,
            "footer": None,
            "rendering_options": None,
        },
        "livemode": False,
        "metadata": merge_metadata({}, params.get("metadata") or {}),
        "name": params.get("name") or None,
        "next_invoice_sequence": 1,
        "phone": params.get("phone") or None,
        "preferred_locales": [],
        "shipping": None,
        "tax_exempt": "none",
        "test_clock": None,
    }


def product(params: dict[str, Any]) -> dict[str, Any]:
    created = now()
    return {
        "id": params.get("id") or new_id("prod", 14),
        "object": "product",
        "active": to_bool(params.get("active"), True),
        "created": created,
        "default_price": None,
        "description": params.get("description") or None,
        "images": [],
        "livemode": False,
        "marketing_features": [],
        "metadata": merge_metadata({}, params.get("metadata") or {}),
        "name": params["name"],
        "package_dimensions": None,
        "shippable": None,
        "statement_descriptor": params.get("statement_descriptor") or None,
        "tax_code": None,
        "type": "service",
        "unit_label": params.get("unit_label") or None,
        "updated": created,
        "url": None,
    }


def price(params: dict[str, Any], product_id: str) -> dict[str, Any]:
    recurring_params = params.get("recurring")
    recurring = None
    if recurring_params:
        recurring = {
            "interval": recurring_params["interval"],
            "interval_count": to_int(recurring_params.get("interval_count"), 1),
            "meter": recurring_params.get("meter") or None,
            "trial_period_days": None,
            "usage_type": recurring_params.get("usage_type") or "licensed",
        }
    unit_amount = to_int(params.get("unit_amount"))
    decimal_param = params.get("unit_amount_decimal")
    unit_amount_decimal = (
        str(Decimal(decimal_param)) if decimal_param not in (None, "") else str(unit_amount)
    )
    return {
        "id": new_id("price"),
        "object": "price",
        "active": to_bool(params.get("active"), True),
        "billing_scheme": params.get("billing_scheme") or "per_unit",
        "created": now(),
        "currency": params["currency"].lower(),
        "custom_unit_amount": None,
        "livemode": False,
        "lookup_key": params.get("lookup_key") or None,
        "metadata": merge_metadata({}, params.get("metadata") or {}),
        "nickname": params.get("nickname") or None,
        "product": product_id,
        "recurring": recurring,
        "tax_behavior": params.get("tax_behavior") or "unspecified",
        "tiers_mode": None,
        "transform_quantity": None,
        "type": "recurring" if recurring else "one_time",
        "unit_amount": unit_amount,
        "unit_amount_decimal": unit_amount_decimal,
    }


def price_amount(price_obj: dict[str, Any], quantity: int) -> int:
    """Cents for `quantity` units, rounded half up like Stripe's line amounts."""
    unit = Decimal(price_obj["unit_amount_decimal"] or "0")
    return int((unit * quantity).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def meter(params: dict[str, Any]) -> dict[str, Any]:
    created = now()
    mapping = params.get("customer_mapping") or {}
    value_settings = params.get("value_settings") or {}
    return {
        "id": new_id("mtr_test", 24),
        "object": "billing.meter",
        "created": created,
        "customer_mapping": {
            "event_payload_key": mapping.get("event_payload_key", "stripe_customer_id"),
            "type": mapping.get("type", "by_id"),
        },
        "default_aggregation": {"formula": params["default_aggregation"]["formula"]},
        "display_name": params["display_name"],
        "event_name": params["event_name"],
        "event_time_window": params.get("event_time_window") or None,
        "livemode": False,
        "status": "active",
        "status_transitions": {"deactivated_at": None},
        "updated": created,
        "value_settings": {"event_payload_key": value_settings.get("event_payload_key", "value")},
    }


def meter_event(params: dict[str, Any]) -> dict[str, Any]:
    return {
        "object": "billing.meter_event",
        "created": now(),
        "event_name": params["event_name"],
        "identifier": params.get("identifier") or new_id("mev", 20),
        "livemode": False,
        "payload": {k: str(v) for k, v in (params.get("payload") or {}).items()},
        "timestamp": to_int(params.get("timestamp"), now()),
    }


def checkout_session(params: dict[str, Any], base_url: str, amount: int) -> dict[str, Any]:
    session_id = new_id("cs_test", 58)
    created = now()
    mode = params["mode"]
    return {
        "id": session_id,
        "object": "checkout.session",
        "after_expiration": None,
        "allow_promotion_codes": to_bool(params.get("allow_promotion_codes")) or None,
        "amount_subtotal": amount,
        "amount_total": amount,
        "billing_address_collection": params.get("billing_address_collection") or None,
        "cancel_url": params.get("cancel_url") or None,
        "client_reference_id": params.get("client_reference_id") or None,
        "created": created,
        "currency": "usd",
        "customer": params.get("customer") or None,
        "customer_creation": None if params.get("customer") else "if_required",
        "customer_details": None,
        "customer_email": params.get("customer_email") or None,
        "expires_at": created + 24 * 3600,
        "invoice": None,
        "livemode": False,
        "locale": params.get("locale") or None,
        "metadata": merge_metadata({}, params.get("metadata") or {}),
        "mode": mode,
        "payment_intent": None,
        "payment_method_types": ["card"],
        "payment_status": "unpaid",
        "status": "open",
        "submit_type": None,
        "subscription": None,
        "success_url": params.get("success_url") or None,
        "ui_mode": "hosted",
        "url": f"{base_url}/checkout/{session_id}",
    }


def checkout_line_item(price_obj: dict[str, Any], quantity: int | None) -> dict[str, Any]:
    amount = price_amount(price_obj, quantity or 0)
    return {
        "id": new_id("li"),
        "object": "item",
        "amount_discount": 0,
        "amount_subtotal": amount,
        "amount_tax": 0,
        "amount_total": amount,
        "currency": price_obj["currency"],
        "description": None,
        "price": price_obj,
        "quantity": quantity,
    }


def portal_session(params: dict[str, Any], base_url: str) -> dict[str, Any]:
    session_id = new_id("bps_1")
    return {
        "id": session_id,
        "object": "billing_portal.session",
        "configuration": params.get("configuration") or "bpc_1FakeDefaultConfiguration",
        "created": now(),
        "customer": params["customer"],
        "flow": None,
        "livemode": False,
        "locale": params.get("locale") or None,
        "on_behalf_of": None,
        "return_url": params.get("return_url") or None,
        "url": f"{base_url}/portal/{session_id}",
    }


def payment_method(customer_id: str | None) -> dict[str, Any]:
    return {
        "id": new_id("pm_1"),
        "object": "payment_method",
        "allow_redisplay": "unspecified",
        "billing_details": {
            "address": {
                "city": None,
                "country": "US",
                "line1": None,
                "line2": None,
                "postal_code": "42424",
                "state": None,
            },
            "email": None,
            "name": "Test Card",
            "phone": None,
            "tax_id": None,
        },
        "card": {
            "brand": "visa",
            "checks": {
                "address_line1_check": None,
                "address_postal_code_check": "pass",
                "cvc_check": "pass",
            },
            "country": "US",
            "display_brand": "visa",
            "exp_month": 12,
            "exp_year": dt.date.today().year + 3,
            "fingerprint": "FakeFingerprint0",
            "funding": "credit",
            "generated_from": None,
            "last4": "4242",
            "networks": {"available": ["visa"], "preferred": None},
            "regulated_status": "unregulated",
            "three_d_secure_usage": {"supported": True},
            "wallet": None,
        },
        "created": now(),
        "customer": customer_id,
        "livemode": False,
        "metadata": {},
        "type": "card",
    }


def balance_transaction(amount: int, source: str) -> dict[str, Any]:
    fee = int((Decimal(amount) * Decimal("0.029")).quantize(Decimal(1)) + 30) if amount else 0
    created = now()
    return {
        "id": new_id("txn_3"),
        "object": "balance_transaction",
        "amount": amount,
        "available_on": created + 2 * 86400,
        "created": created,
        "currency": "usd",
        "description": None,
        "exchange_rate": None,
        "fee": fee,
        "fee_details": [
            {
                "amount": fee,
                "application": None,
                "currency": "usd",
                "description": "Stripe processing fees",
                "type": "stripe_fee",
            }
        ],
        "net": amount - fee,
        "reporting_category": "charge",
        "source": source,
        "status": "pending",
        "type": "charge",
    }


def payment_intent(
    amount: int, customer_id: str | None, metadata: dict[str, str], description: str | None
) -> dict[str, Any]:
    intent_id = new_id("pi_3")
    return {
        "id": intent_id,
        "object": "payment_intent",
        "amount": amount,
        "amount_capturable": 0,
        "amount_details": {"tip": {}},
        "amount_received": 0,
        "application": None,
        "application_fee_amount": None,
        "automatic_payment_methods": None,
        "canceled_at": None,
        "cancellation_reason": None,
        "capture_method": "automatic",
        "client_secret": f"{intent_id}_secret_{new_id('x', 20)[2:]}",
        "confirmation_method": "automatic",
        "created": now(),
        "currency": "usd",
        "customer": customer_id,
        "description": description,
        "last_payment_error": None,
        "latest_charge": None,
        "livemode": False,
        "metadata": dict(metadata),
        "next_action": None,
        "on_behalf_of": None,
        "payment_method": None,
        "payment_method_options": {"card": {"request_three_d_secure": "automatic"}},
        "payment_method_types": ["card"],
        "processing": None,
        "receipt_email": None,
        "review": None,
        "setup_future_usage": None,
        "shipping": None,
        "statement_descriptor": None,
        "statement_descriptor_suffix": None,
        "status": "requires_payment_method",
        "transfer_data": None,
        "transfer_group": None,
    }


def charge(intent: dict[str, Any], pm: dict[str, Any], txn_id: str) -> dict[str, Any]:
    charge_id = new_id("ch_3")
    return {
        "id": charge_id,
        "object": "charge",
        "amount": intent["amount"],
        "amount_captured": intent["amount"],
        "amount_refunded": 0,
        "application": None,
        "application_fee": None,
        "application_fee_amount": None,
        "balance_transaction": txn_id,
        "billing_details": pm["billing_details"],
        "calculated_statement_descriptor": "CLOUDFREEDOM",
        "captured": True,
        "created": now(),
        "currency": "usd",
        "customer": intent["customer"],
        "description": intent["description"],
        "disputed": False,
        "failure_balance_transaction": None,
        "failure_code": None,
        "failure_message": None,
        "fraud_details": {},
        "livemode": False,
        "metadata": dict(intent["metadata"]),
        "on_behalf_of": None,
        "outcome": {
            "network_status": "approved_by_network",
            "reason": None,
            "risk_level": "normal",
            "risk_score": 20,
            "seller_message": "Payment complete.",
            "type": "authorized",
        },
        "paid": True,
        "payment_intent": intent["id"],
        "payment_method": pm["id"],
        "payment_method_details": {"card": dict(pm["card"]), "type": "card"},
        "receipt_email": None,
        "receipt_number": None,
        "receipt_url": f"https://pay.stripe.com/receipts/{charge_id}",
        "refunded": False,
        "refunds": list_object([], f"/v1/charges/{charge_id}/refunds"),
        "review": None,
        "shipping": None,
        "source_transfer": None,
        "statement_descriptor": None,
        "statement_descriptor_suffix": None,
        "status": "succeeded",
        "transfer_data": None,
        "transfer_group": None,
    }


def subscription_item(
    price_obj: dict[str, Any], subscription_id: str, quantity: int | None, start: int, end: int
) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": new_id("si", 14),
        "object": "subscription_item",
        "billing_thresholds": None,
        "created": start,
        "current_period_end": end,
        "current_period_start": start,
        "discounts": [],
        "metadata": {},
        "price": price_obj,
        "subscription": subscription_id,
        "tax_rates": [],
    }
    # A metered price has no quantity (usage comes from the meter); Stripe omits it.
    if quantity is not None:
        item["quantity"] = quantity
    return item


def subscription(
    customer_id: str, metadata: dict[str, str], payment_method_id: str | None, start: int
) -> dict[str, Any]:
    sub_id = new_id("sub_1")
    return {
        "id": sub_id,
        "object": "subscription",
        "application": None,
        "application_fee_percent": None,
        "automatic_tax": {"disabled_reason": None, "enabled": False, "liability": None},
        "billing_cycle_anchor": start,
        "billing_cycle_anchor_config": None,
        "billing_mode": {"flexible": None, "type": "classic"},
        "billing_thresholds": None,
        "cancel_at": None,
        "cancel_at_period_end": False,
        "canceled_at": None,
        "cancellation_details": {"comment": None, "feedback": None, "reason": None},
        "collection_method": "charge_automatically",
        "created": start,
        "currency": "usd",
        "customer": customer_id,
        "days_until_due": None,
        "default_payment_method": payment_method_id,
        "default_source": None,
        "default_tax_rates": [],
        "description": None,
        "discounts": [],
        "ended_at": None,
        "invoice_settings": {"account_tax_ids": None, "issuer": {"type": "self"}},
        "items": list_object([], f"/v1/subscription_items?subscription={sub_id}"),
        "latest_invoice": None,
        "livemode": False,
        "metadata": dict(metadata),
        "next_pending_invoice_item_invoice": None,
        "on_behalf_of": None,
        "pause_collection": None,
        "payment_settings": {
            "payment_method_options": None,
            "payment_method_types": None,
            "save_default_payment_method": "off",
        },
        "pending_invoice_item_interval": None,
        "pending_setup_intent": None,
        "pending_update": None,
        "schedule": None,
        "start_date": start,
        "status": "incomplete",
        "test_clock": None,
        "transfer_data": None,
        "trial_end": None,
        "trial_settings": {"end_behavior": {"missing_payment_method": "create_invoice"}},
        "trial_start": None,
    }


def invoice_line(
    invoice_id: str,
    item: dict[str, Any],
    quantity: int,
    period: tuple[int, int],
    product_name: str,
) -> dict[str, Any]:
    price_obj = item["price"]
    amount = price_amount(price_obj, quantity)
    return {
        "id": new_id("il_tmp_1"),
        "object": "line_item",
        "amount": amount,
        "currency": price_obj["currency"],
        "description": f"{quantity} x {product_name}",
        "discount_amounts": [],
        "discountable": True,
        "discounts": [],
        "invoice": invoice_id,
        "livemode": False,
        "metadata": {},
        "parent": {
            "invoice_item_details": None,
            "subscription_item_details": {
                "invoice_item": None,
                "proration": False,
                "proration_details": {"credited_items": None},
                "subscription": item["subscription"],
                "subscription_item": item["id"],
            },
            "type": "subscription_item_details",
        },
        "period": {"end": period[1], "start": period[0]},
        "pretax_credit_amounts": [],
        "pricing": {
            "price_details": {"price": price_obj["id"], "product": price_obj["product"]},
            "type": "price_details",
            "unit_amount_decimal": price_obj["unit_amount_decimal"],
        },
        "quantity": quantity,
        "taxes": [],
    }


def invoice(
    sub: dict[str, Any],
    customer_obj: dict[str, Any],
    billing_reason: str,
    period: tuple[int, int],
    number: str,
) -> dict[str, Any]:
    invoice_id = new_id("in_1")
    created = now()
    return {
        "id": invoice_id,
        "object": "invoice",
        "account_country": "US",
        "account_name": "CloudFreedom (test)",
        "account_tax_ids": None,
        "amount_due": 0,
        "amount_overpaid": 0,
        "amount_paid": 0,
        "amount_remaining": 0,
        "amount_shipping": 0,
        "application": None,
        "attempt_count": 0,
        "attempted": False,
        "auto_advance": True,
        "automatic_tax": {
            "disabled_reason": None,
            "enabled": False,
            "liability": None,
            "provider": None,
            "status": None,
        },
        "automatically_finalizes_at": None,
        "billing_reason": billing_reason,
        "collection_method": "charge_automatically",
        "confirmation_secret": None,
        "created": created,
        "currency": "usd",
        "custom_fields": None,
        "customer": customer_obj["id"],
        "customer_address": None,
        "customer_email": customer_obj.get("email"),
        "customer_name": customer_obj.get("name"),
        "customer_phone": None,
        "customer_shipping": None,
        "customer_tax_exempt": "none",
        "customer_tax_ids": [],
        "default_payment_method": None,
        "default_source": None,
        "default_tax_rates": [],
        "description": None,
        "discounts": [],
        "due_date": None,
        "effective_at": None,
        "ending_balance": None,
        "footer": None,
        "from_invoice": None,
        "hosted_invoice_url": None,
        "invoice_pdf": None,
        "issuer": {"type": "self"},
        "last_finalization_error": None,
        "latest_revision": None,
        "lines": list_object([], f"/v1/invoices/{invoice_id}/lines"),
        "livemode": False,
        "metadata": {},
        "next_payment_attempt": None,
        "number": None,
        "on_behalf_of": None,
        "parent": {
            "quote_details": None,
            "subscription_details": {"metadata": dict(sub["metadata"]), "subscription": sub["id"]},
            "type": "subscription_details",
        },
        "payment_settings": {
            "default_mandate": None,
            "payment_method_options": None,
            "payment_method_types": None,
        },
        "period_end": period[1],
        "period_start": period[0],
        "post_payment_credit_notes_amount": 0,
        "pre_payment_credit_notes_amount": 0,
        "receipt_number": None,
        "rendering": None,
        "shipping_cost": None,
        "shipping_details": None,
        "starting_balance": 0,
        "statement_descriptor": None,
        "status": "draft",
        "status_transitions": {
            "finalized_at": None,
            "marked_uncollectible_at": None,
            "paid_at": None,
            "voided_at": None,
        },
        "subtotal": 0,
        "subtotal_excluding_tax": 0,
        "test_clock": None,
        "total": 0,
        "total_discount_amounts": [],
        "total_excluding_tax": 0,
        "total_pretax_credit_amounts": [],
        "total_taxes": [],
        "webhooks_delivered_at": None,
        "_number": number,
    }


def event(
    event_type: str,
    obj: dict[str, Any],
    api_version: str,
    previous_attributes: dict[str, Any] | None = None,
    request_id: str | None = None,
) -> dict[str, Any]:
    data: dict[str, Any] = {"object": obj}
    if previous_attributes is not None:
        data["previous_attributes"] = previous_attributes
    return {
        "id": new_id("evt_1"),
        "object": "event",
        "api_version": api_version,
        "created": now(),
        "data": data,
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": request_id, "idempotency_key": None},
        "type": event_type,
    }
