"""The fake Stripe's objects and its `/v1` resources (tests/fakes/stripe_server.py serves
them over HTTP and adds the flows, webhooks and pages).

Every method that handles a request takes the decoded form params (plus path groups) and
returns the stored object; the caller holds the lock and strips the "_" bookkeeping keys.
"""

from __future__ import annotations

import copy
import json
import re
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

from tests.fakes import stripe_objects as so

COLLECTIONS = {
    "customers": "customer",
    "products": "product",
    "prices": "price",
    "billing/meters": "billing.meter",
    "checkout/sessions": "checkout.session",
    "billing_portal/sessions": "billing_portal.session",
    "subscriptions": "subscription",
    "subscription_items": "subscription_item",
    "invoices": "invoice",
    "payment_intents": "payment_intent",
    "charges": "charge",
    "payment_methods": "payment_method",
    "balance_transactions": "balance_transaction",
    "events": "event",
}
LIST_CONTROL = {"limit", "starting_after", "ending_before", "expand", "created"}


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str | None = None,
        param: str | None = None,
        kind: str = "invalid_request_error",
    ) -> None:
        super().__init__(message)
        self.status, self.message, self.code, self.param, self.kind = (
            status,
            message,
            code,
            param,
            kind,
        )

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"type": self.kind, "message": self.message}
        if self.code:
            error["code"] = self.code
        if self.param:
            error["param"] = self.param
        return {"error": error}


def missing(object_id: str, param: str = "id") -> ApiError:
    return ApiError(404, f"No such object: '{object_id}'", code="resource_missing", param=param)


def decode_form(raw: str) -> dict[str, Any]:
    """Stripe's form notation back into nested values: `items[0][price]=x&metadata[a]=b`
    → {"items": [{"price": "x"}], "metadata": {"a": "b"}}. Maps whose keys are all
    digits become lists (that is how the library encodes lists)."""
    root: dict[str, Any] = {}
    for key, value in parse_qsl(raw, keep_blank_values=True):
        head, _, rest = key.partition("[")
        parts = [head] + (re.findall(r"([^\[\]]*)\]", "[" + rest) if rest else [])
        node = root
        for part in parts[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = node[part] = {}
            node = child
        node[parts[-1]] = value
    return _listify(root)


def _listify(value: Any) -> Any:
    if isinstance(value, dict):
        converted = {k: _listify(v) for k, v in value.items()}
        if converted and all(k.isdigit() for k in converted):
            return [converted[k] for k in sorted(converted, key=int)]
        return converted
    return value


def _public(value: Any) -> Any:
    """A deep copy without the fake's own "_" keys (metadata is customer data: kept)."""
    if isinstance(value, dict):
        return {
            k: (dict(v) if k == "metadata" and isinstance(v, dict) else _public(v))
            for k, v in value.items()
            if not k.startswith("_")
        }
    if isinstance(value, list):
        return [_public(v) for v in value]
    return value


class StripeStore:
    """In-memory Stripe objects and the API operations on them (no HTTP here)."""

    def __init__(self, api_version: str) -> None:
        self.api_version = api_version
        self.account_id = "acct_1FakeCloudFreedom0"
        self._lock = threading.RLock()
        self.reset()

    def forget_idempotency_keys(self) -> None:
        """What 24 hours do at Stripe: a key used before is new again."""
        with self._lock:
            self._idempotent.clear()

    @property
    def url(self) -> str:
        """The server's base URL (Checkout and portal pages live there)."""
        raise NotImplementedError

    def reset(self) -> None:
        """Forget every object, call and event (the server keeps running)."""
        with self._lock:
            self.objects: dict[str, dict[str, Any]] = {}
            self.events: list[dict[str, Any]] = []
            self.pending: list[dict[str, Any]] = []
            self.deliveries: list[tuple[str, str, int]] = []  # (event id, type, status)
            self.meter_events: list[dict[str, Any]] = []
            self.calls: list[tuple[str, str, dict[str, Any]]] = []
            # Per call: its Stripe-Version and Idempotency-Key headers (when sent).
            self.call_headers: list[dict[str, str]] = []
            self.unknown: list[tuple[str, str]] = []
            self._idempotent: dict[str, tuple[str, str, int, bytes]] = {}
            self._seq = 0

    # -- reading the state (tests) ----------------------------------------------------

    def get(self, object_id: str) -> dict[str, Any]:
        with self._lock:
            if object_id not in self.objects:
                raise KeyError(object_id)
            return _public(self.objects[object_id])

    def find(self, object_type: str, **fields: Any) -> list[dict[str, Any]]:
        """Objects of a type whose top-level fields equal `fields`, oldest first."""
        with self._lock:
            return [
                _public(o)
                for o in self._of_type(object_type)
                if all(o.get(k) == v for k, v in fields.items())
            ]

    def meter_total(self, customer_id: str, event_name: str, start: int = 0, end: int = 0) -> int:
        """Sum of the meter's values for a customer with start <= timestamp < end (0: open)."""
        with self._lock:
            return sum(
                int(e["payload"].get("value", "0"))
                for e in self.meter_events
                if e["event_name"] == event_name
                and e["payload"].get("stripe_customer_id") == customer_id
                and e["timestamp"] >= start
                and (not end or e["timestamp"] < end)
            )

    def event_types(self) -> list[str]:
        with self._lock:
            return [e["type"] for e in self.events]

    # -- store helpers ----------------------------------------------------------------

    def _put(self, obj: dict[str, Any]) -> dict[str, Any]:
        self._seq += 1
        obj["_seq"] = self._seq
        self.objects[obj["id"]] = obj
        return obj

    def _of_type(self, object_type: str) -> list[dict[str, Any]]:
        return [o for o in self.objects.values() if o.get("object") == object_type]

    def _obj(self, object_id: Any, object_type: str, param: str = "id") -> dict[str, Any]:
        obj = self.objects.get(str(object_id))
        if obj is None or obj.get("object") != object_type:
            raise missing(str(object_id), param)
        return obj

    def _expand(self, obj: dict[str, Any], paths: list[str]) -> dict[str, Any]:
        out = copy.deepcopy(obj)
        for path in paths:
            self._expand_path(out, path.split("."))
        return out

    def _expand_path(self, node: Any, parts: list[str]) -> None:
        if not parts or not isinstance(node, dict):
            return
        head, rest = parts[0], parts[1:]
        if head == "data" and isinstance(node.get("data"), list):
            for item in node["data"]:
                self._expand_path(item, rest)
            return
        if head == "line_items" and node.get("object") == "checkout.session":
            node["line_items"] = self._session_line_items(node)
        value = node.get(head)
        if isinstance(value, str) and value in self.objects:
            node[head] = copy.deepcopy(self.objects[value])
        elif isinstance(value, list):
            node[head] = [
                copy.deepcopy(self.objects[v]) if isinstance(v, str) and v in self.objects else v
                for v in value
            ]
        self._expand_path(node.get(head), rest)

    def _list(
        self, object_type: str, params: dict[str, Any], url: str, keep: Callable[[Any], bool]
    ) -> dict[str, Any]:
        items = sorted(
            (o for o in self._of_type(object_type) if keep(o)),
            key=lambda o: (o.get("created", 0), o["_seq"]),
            reverse=True,  # Stripe lists newest first
        )
        ids = [o["id"] for o in items]
        if params.get("starting_after") in ids:
            items = items[ids.index(params["starting_after"]) + 1 :]
        elif params.get("ending_before") in ids:
            items = items[: ids.index(params["ending_before"])]
        limit = min(int(params.get("limit") or 10), 100)
        page = items[:limit]
        expand = [p.removeprefix("data.") for p in params.get("expand") or []]
        return so.list_object(
            [self._expand(o, expand) for o in page], url, has_more=len(items) > limit
        )

    def _emit(
        self, event_type: str, obj: dict[str, Any], previous: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        event = so.event(event_type, _public(obj), self.api_version, previous)
        self._put(event)
        self.events.append(event)
        return event

    # -- generic resources ---------------------------------------------------------------

    def _retrieve(self, params: dict[str, Any], coll: str, id: str) -> dict[str, Any]:
        return self._obj(id, COLLECTIONS[coll])

    def _list_generic(self, params: dict[str, Any], coll: str) -> dict[str, Any]:
        filters = {k: v for k, v in params.items() if k not in LIST_CONTROL}
        ids = filters.pop("ids", None)
        if filters.get("status") == "all":
            filters.pop("status")
        subscription = filters.pop("subscription", None) if coll == "invoices" else None

        def keep(o: dict[str, Any]) -> bool:
            if ids is not None and o["id"] not in ids:
                return False
            if subscription is not None and _invoice_subscription(o) != subscription:
                return False
            for field, wanted in filters.items():
                if field not in o or isinstance(wanted, dict | list):
                    continue
                have = o[field]
                have = json.dumps(have) if isinstance(have, bool) else str(have)
                if have != wanted:
                    return False
            return True

        return self._list(COLLECTIONS[coll], params, f"/v1/{coll}", keep)

    def get_account(self, params: dict[str, Any], id: str | None = None) -> dict[str, Any]:
        if id is not None and id != self.account_id:
            raise missing(id, "account")
        return so.account(self.account_id)

    def list_customer_payment_methods(self, params: dict[str, Any], id: str) -> dict[str, Any]:
        self._obj(id, "customer")
        return self._list(
            "payment_method",
            params,
            f"/v1/customers/{id}/payment_methods",
            lambda o: o.get("customer") == id,
        )

    def list_product_features(self, params: dict[str, Any], id: str) -> dict[str, Any]:
        # Entitlement features are not used here: every product has none.
        self._obj(id, "product")
        return so.list_object([], f"/v1/products/{id}/features")

    # -- customers, products, prices, meters ----------------------------------------------

    def create_customer(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._put(so.customer(params))

    def update_customer(self, params: dict[str, Any], id: str) -> dict[str, Any]:
        obj = self._obj(id, "customer")
        for field in ("email", "name", "description", "phone"):
            if field in params:
                obj[field] = params[field] or None
        if "metadata" in params:
            obj["metadata"] = so.merge_metadata(obj["metadata"], params["metadata"])
        if "invoice_settings" in params:
            pm = params["invoice_settings"].get("default_payment_method")
            obj["invoice_settings"]["default_payment_method"] = pm or None
        return obj

    def delete_customer(self, params: dict[str, Any], id: str) -> dict[str, Any]:
        self._obj(id, "customer")
        del self.objects[id]
        return {"id": id, "object": "customer", "deleted": True}

    def create_product(self, params: dict[str, Any]) -> dict[str, Any]:
        if not params.get("name"):
            raise ApiError(400, "Missing required param: name.", code="parameter_missing")
        if params.get("id") in self.objects:
            raise ApiError(400, "Product already exists.", code="resource_already_exists")
        return self._put(so.product(params))

    def update_product(self, params: dict[str, Any], id: str) -> dict[str, Any]:
        obj = self._obj(id, "product")
        for field in ("name", "description", "statement_descriptor", "unit_label"):
            if field in params:
                obj[field] = params[field] or None
        if "active" in params:
            obj["active"] = so.to_bool(params["active"])
        if "default_price" in params:
            if params["default_price"]:
                self._obj(params["default_price"], "price", "default_price")
            obj["default_price"] = params["default_price"] or None
        if "metadata" in params:
            obj["metadata"] = so.merge_metadata(obj["metadata"], params["metadata"])
        obj["updated"] = so.now()
        return obj

    def create_price(self, params: dict[str, Any]) -> dict[str, Any]:
        for field in ("currency",):
            if not params.get(field):
                raise ApiError(400, f"Missing required param: {field}.", param=field)
        if params.get("product_data"):
            product_id = self._put(so.product(params["product_data"]))["id"]
        elif params.get("product"):
            product_id = self._obj(params["product"], "product", "product")["id"]
        else:
            raise ApiError(400, "Missing required param: product.", code="parameter_missing")
        if params.get("unit_amount") in (None, "") and params.get("unit_amount_decimal") in (
            None,
            "",
        ):
            raise ApiError(400, "Missing required param: unit_amount.", param="unit_amount")
        recurring = params.get("recurring") or {}
        if recurring.get("usage_type") == "metered":
            if not recurring.get("meter"):
                raise ApiError(
                    400, "A metered price needs recurring[meter].", param="recurring[meter]"
                )
            self._obj(recurring["meter"], "billing.meter", "recurring[meter]")
        return self._put(so.price(params, product_id))

    def update_price(self, params: dict[str, Any], id: str) -> dict[str, Any]:
        obj = self._obj(id, "price")
        for field in params:
            if field not in ("active", "metadata", "nickname", "lookup_key", "expand"):
                # Prices are immutable: Stripe refuses to change an amount.
                raise ApiError(400, f"Received unknown parameter: {field}", param=field)
        if "active" in params:
            active = so.to_bool(params["active"])
            owner = self.objects.get(obj["product"]) or {}
            if not active and owner.get("default_price") == id:
                raise ApiError(
                    400,
                    "This price cannot be archived because it is the default price of its product.",
                    param="active",
                )
            obj["active"] = active
        if "metadata" in params:
            obj["metadata"] = so.merge_metadata(obj["metadata"], params["metadata"])
        for field in ("nickname", "lookup_key"):
            if field in params:
                obj[field] = params[field] or None
        return obj

    def create_meter(self, params: dict[str, Any]) -> dict[str, Any]:
        for field in ("display_name", "event_name"):
            if not params.get(field):
                raise ApiError(400, f"Missing required param: {field}.", param=field)
        if not (params.get("default_aggregation") or {}).get("formula"):
            raise ApiError(
                400, "Missing required param: default_aggregation.", param="default_aggregation"
            )
        for other in self._of_type("billing.meter"):
            if other["status"] == "active" and other["event_name"] == params["event_name"]:
                raise ApiError(
                    400,
                    f"An active meter with event_name {params['event_name']} already exists.",
                    param="event_name",
                )
        return self._put(so.meter(params))

    def update_meter(self, params: dict[str, Any], id: str) -> dict[str, Any]:
        obj = self._obj(id, "billing.meter")
        if params.get("display_name"):
            obj["display_name"] = params["display_name"]
        obj["updated"] = so.now()
        return obj

    def deactivate_meter(self, params: dict[str, Any], id: str) -> dict[str, Any]:
        obj = self._obj(id, "billing.meter")
        obj["status"] = "inactive"
        obj["status_transitions"]["deactivated_at"] = obj["updated"] = so.now()
        return obj

    def create_meter_event(self, params: dict[str, Any]) -> dict[str, Any]:
        name = params.get("event_name")
        meters = [
            m
            for m in self._of_type("billing.meter")
            if m["event_name"] == name and m["status"] == "active"
        ]
        if not meters:
            raise ApiError(400, f"No active meter found for event_name {name}.", param="event_name")
        payload = params.get("payload") or {}
        customer_key = meters[0]["customer_mapping"]["event_payload_key"]
        value_key = meters[0]["value_settings"]["event_payload_key"]
        if not payload.get(customer_key) or not str(payload.get(value_key, "")).isdigit():
            raise ApiError(
                400, "The payload is missing the customer or the value.", param="payload"
            )
        self._obj(payload[customer_key], "customer", f"payload[{customer_key}]")
        event = so.meter_event(params)
        # Stripe enforces identifier uniqueness (>= 24 h): a retry is not counted twice.
        if any(e["identifier"] == event["identifier"] for e in self.meter_events):
            raise ApiError(
                400,
                f"An event with identifier {event['identifier']} already exists.",
                code="resource_already_exists",
                param="identifier",
            )
        self.meter_events.append(event)
        return event

    # -- checkout and the billing portal ---------------------------------------------------

    def create_checkout_session(self, params: dict[str, Any]) -> dict[str, Any]:
        mode = params.get("mode")
        if mode not in ("subscription", "payment"):
            raise ApiError(400, "Missing or invalid param: mode.", param="mode")
        if not params.get("success_url"):
            raise ApiError(400, "Missing required param: success_url.", param="success_url")
        if params.get("customer") and params.get("customer_email"):
            raise ApiError(
                400, "You may only specify one of these parameters: customer, customer_email."
            )
        if params.get("customer"):
            self._obj(params["customer"], "customer", "customer")
        raw_items = params.get("line_items") or []
        if not raw_items:
            raise ApiError(400, "Missing required param: line_items.", param="line_items")
        lines: list[tuple[str, int | None]] = []
        amount = 0
        for index, item in enumerate(raw_items):
            param = f"line_items[{index}]"
            if item.get("price_data"):
                data = dict(item["price_data"])
                price_obj = self.create_price(data)
                price_obj["active"] = False  # an inline price is not reusable
            else:
                price_obj = self._obj(item.get("price"), "price", f"{param}[price]")
                if not price_obj["active"]:
                    raise ApiError(400, f"The price {price_obj['id']} is not active.", param=param)
            recurring = price_obj["recurring"]
            if (mode == "subscription") != bool(recurring):
                raise ApiError(
                    400,
                    f"{param}: a {mode} Checkout Session needs "
                    + ("recurring prices." if mode == "subscription" else "one-time prices."),
                    param=param,
                )
            metered = bool(recurring and recurring["usage_type"] == "metered")
            quantity = so.to_int(item.get("quantity"))
            if metered and quantity is not None:
                raise ApiError(
                    400,
                    "Quantity should not be specified where usage_type is `metered`.",
                    param=f"{param}[quantity]",
                )
            if not metered and quantity is None:
                raise ApiError(400, "Missing required param: quantity.", param=f"{param}[quantity]")
            lines.append((price_obj["id"], quantity))
            amount += so.price_amount(price_obj, quantity or 0)
        session = so.checkout_session(params, self.url, amount)
        session["_line_items"] = lines
        session["_subscription_data"] = params.get("subscription_data") or {}
        session["_payment_intent_data"] = params.get("payment_intent_data") or {}
        return self._put(session)

    def _session_line_items(self, session: dict[str, Any]) -> dict[str, Any]:
        source = self.objects[session["id"]]
        data = [
            so.checkout_line_item(copy.deepcopy(self.objects[pid]), qty)
            for pid, qty in source["_line_items"]
        ]
        return so.list_object(data, f"/v1/checkout/sessions/{session['id']}/line_items")

    def list_invoice_lines(self, params: dict[str, Any], id: str) -> dict[str, Any]:
        # The invoice carries all its lines (the fake never has more than a page).
        return self._obj(id, "invoice")["lines"]

    def list_session_line_items(self, params: dict[str, Any], id: str) -> dict[str, Any]:
        return self._session_line_items(self._obj(id, "checkout.session"))

    def expire_checkout_session(self, params: dict[str, Any], id: str) -> dict[str, Any]:
        session = self._obj(id, "checkout.session")
        if session["status"] != "open":
            raise ApiError(400, "Only open Checkout Sessions can be expired.")
        session["status"] = "expired"
        return session

    def create_portal_session(self, params: dict[str, Any]) -> dict[str, Any]:
        if not params.get("customer"):
            raise ApiError(400, "Missing required param: customer.", param="customer")
        self._obj(params["customer"], "customer", "customer")
        return self._put(so.portal_session(params, self.url))

    # -- subscriptions through the API -----------------------------------------------------

    def update_subscription(self, params: dict[str, Any], id: str) -> dict[str, Any]:
        sub = self._obj(id, "subscription")
        if sub["status"] == "canceled":
            raise ApiError(400, "A canceled subscription can only update its metadata.")
        before = _public(sub)
        if "cancel_at_period_end" in params:
            sub["cancel_at_period_end"] = so.to_bool(params["cancel_at_period_end"])
            sub["cancel_at"] = _period(sub)[1] if sub["cancel_at_period_end"] else None
        if "metadata" in params:
            sub["metadata"] = so.merge_metadata(sub["metadata"], params["metadata"])
        for change in params.get("items") or []:
            item = next((i for i in sub["items"]["data"] if i["id"] == change.get("id")), None)
            if item is None:
                raise ApiError(400, "Unknown subscription item.", param="items")
            if change.get("price"):
                item["price"] = self._obj(change["price"], "price", "items[price]")
        previous = {k: before[k] for k in before if before[k] != _public(sub)[k]}
        self.pending.append(self._emit("customer.subscription.updated", sub, previous))
        return sub

    def delete_subscription(self, params: dict[str, Any], id: str) -> dict[str, Any]:
        sub = self._obj(id, "subscription")
        self._cancel_now(sub)
        self.pending.append(self._emit("customer.subscription.deleted", sub))
        return sub

    def _cancel_now(self, sub: dict[str, Any]) -> None:
        moment = so.now()
        sub.update(status="canceled", canceled_at=moment, ended_at=moment)
        sub["cancellation_details"]["reason"] = "cancellation_requested"


def _period(sub: dict[str, Any]) -> tuple[int, int]:
    items = sub["items"]["data"]
    return items[0]["current_period_start"], items[0]["current_period_end"]


def _invoice_subscription(inv: dict[str, Any]) -> str | None:
    details = (inv.get("parent") or {}).get("subscription_details") or {}
    return details.get("subscription")
