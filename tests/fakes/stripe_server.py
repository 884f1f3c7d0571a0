"""A fake Stripe API on 127.0.0.1 for tests: the `stripe` library and dj-stripe talk to it.

    with FakeStripe() as fake:                      # or the `stripe_fake` fixture
        stripe.api_base = fake.url
        fake.set_webhook(url=live.url + path)        # or sender=... (Django test client)
        session = stripe.checkout.Session.create(..., api_key=fake.api_key)
        statuses = fake.pay_checkout(session.id)     # delivers the events, signed

It serves `/v1/…` with Stripe's wire format (form-encoded requests in the `a[b][0][c]=`
notation, JSON objects with real id prefixes and `livemode: false`; the shapes are in
tests/fakes/stripe_objects.py), checks `Authorization: Bearer <api_key>` (401 otherwise),
replays a POST with a known `Idempotency-Key`, and answers an unknown path with Stripe's
404 error while recording it in `unknown` (so a test can see what is missing). `calls`
records every API request as (method, path, params).

Flows a test (or the fake's own pages) drives: `pay_checkout`, `renew`,
`set_subscription_status`, `cancel_subscription`; each builds the events real Stripe
sends, in order, and delivers them synchronously, signed like Stripe
(`Stripe-Signature: t=<ts>,v1=<hmac-sha256(secret, "<ts>.<body>")>`), returning the HTTP
statuses. Subscription changes made through the API (update, cancel) queue their events in
`pending`; `deliver_pending()` sends them (Stripe sends them asynchronously too).

Pages (what a browser sees): `/checkout/<id>` with a Pay button (pays, delivers, then
redirects to success_url with {CHECKOUT_SESSION_ID} filled in) and `/portal/<id>` (the
customer portal: cancel at period end, back to return_url).
"""

from __future__ import annotations

import hashlib
import hmac
import html
import json
import re
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

import httpx

from tests.fakes import stripe_objects as so
from tests.fakes.stripe_store import (
    COLLECTIONS,
    ApiError,
    StripeStore,
    _period,
    _public,
    decode_form,
)

TEST_API_KEY = "sk_test_FakeCloudFreedom000000000000000000"
TEST_WEBHOOK_SECRET = "whsec_FakeCloudFreedom00000000000000000000"
API_VERSION = "2026-08-26.dahlia"

# (body, headers) -> HTTP status: how a delivery reaches the app when no URL is set.
Sender = Callable[[bytes, dict[str, str]], int]


def sign(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    """The `Stripe-Signature` header value Stripe sends with a webhook."""
    t = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{t}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


class FakeStripe(StripeStore):
    def __init__(
        self,
        *,
        api_key: str = TEST_API_KEY,
        webhook_secret: str = TEST_WEBHOOK_SECRET,
        api_version: str = API_VERSION,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        super().__init__(api_version)
        self.api_key = api_key
        self.webhook_secret = webhook_secret
        self.host, self.port = host, port
        self.webhook_url: str | None = None
        self.sender: Sender | None = None
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------------

    def start(self) -> FakeStripe:
        fake = self

        class Handler(_Handler):
            owner = fake

        self._server = ThreadingHTTPServer((self.host, self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="fake-stripe", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(10)
        self._server = self._thread = None

    def __enter__(self) -> FakeStripe:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def set_webhook(
        self, url: str | None = None, *, sender: Sender | None = None, secret: str | None = None
    ) -> None:
        """Where events go: a URL (a live server), or a callable (e.g. Django's test client)."""
        self.webhook_url, self.sender = url, sender
        if secret is not None:
            self.webhook_secret = secret

    # -- HTTP dispatch ------------------------------------------------------------------

    def handle(
        self, method: str, target: str, body: bytes, headers: dict[str, str]
    ) -> tuple[int, str, bytes, dict[str, str]]:
        """One request → (status, content type, body, extra headers)."""
        parts = urlsplit(target)
        path = parts.path.rstrip("/") or "/"
        if not path.startswith("/v1/") and path != "/v1":
            return self._page(method, path, body)
        raw = parts.query if method in ("GET", "DELETE") else body.decode()
        params = decode_form(raw)
        with self._lock:
            self.calls.append((method, path, params))
            self.call_headers.append(
                {k: v for k, v in headers.items() if k in ("stripe-version", "idempotency-key")}
            )
        auth = headers.get("authorization", "")
        if not hmac.compare_digest(auth, f"Bearer {self.api_key}"):
            shown = auth.removeprefix("Bearer ")[-4:]
            error = ApiError(
                401, f"Invalid API Key provided: sk_test_****{shown}", kind="invalid_request_error"
            )
            return self._json(401, error.body())
        key = headers.get("idempotency-key") if method == "POST" else None
        # One lock around replay, handling and storing: concurrent requests with one key
        # make one object (handlers never call out, so holding it is cheap).
        with self._lock:
            seen = self._idempotent.get(key) if key else None
            if seen is not None:
                if (seen[0], seen[1]) != (path, raw):
                    error = ApiError(
                        400,
                        "Keys for idempotent requests can only be used with the same"
                        " parameters they were first used with.",
                        kind="idempotency_error",
                    )
                    return self._json(400, error.body())
                return seen[2], "application/json", seen[3], {"Idempotent-Replayed": "true"}
            try:
                result = self._route(method, path, params)
                status, payload = 200, json.dumps(_public(result)).encode()
            except ApiError as exc:
                status, payload = exc.status, json.dumps(exc.body()).encode()
            if key:
                self._idempotent[key] = (path, raw, status, payload)
        return status, "application/json", payload, {"Request-Id": so.new_id("req", 14)}

    @staticmethod
    def _json(status: int, data: Any) -> tuple[int, str, bytes, dict[str, str]]:
        return status, "application/json", json.dumps(data).encode(), {}

    def _route(self, method: str, path: str, params: dict[str, Any]) -> dict[str, Any]:
        for route_method, pattern, name in ROUTES:
            match = pattern.fullmatch(path)
            if route_method == method and match:
                result: dict[str, Any] = getattr(self, name)(params, **match.groupdict())
                if params.get("expand") and result.get("object") != "list":
                    result = self._expand(result, params["expand"])
                return result
        self.unknown.append((method, path))
        raise ApiError(
            404,
            f"Unrecognized request URL ({method}: {path}). The fake Stripe does not implement"
            " it (see FakeStripe.unknown).",
        )

    # -- flows (what a customer or time does) ----------------------------------------------

    def pay_checkout(self, session_id: str) -> list[int]:
        """Complete a Checkout Session as a customer paying with a test card would, then
        deliver the events Stripe sends (in order); returns their HTTP statuses."""
        with self._lock:
            session = self._obj(session_id, "checkout.session")
            if session["status"] != "open":
                raise ValueError(f"checkout session {session_id} is {session['status']}")
            events: list[dict[str, Any]] = []
            customer = self._session_customer(session, events)
            pm = self._put(so.payment_method(customer["id"] if customer else None))
            if customer is not None:
                events.append(self._emit("payment_method.attached", pm))
            session["customer_details"] = {
                "address": pm["billing_details"]["address"],
                "email": customer["email"] if customer else session["customer_email"],
                "name": pm["billing_details"]["name"],
                "phone": None,
                "tax_exempt": "none",
                "tax_ids": [],
            }
            if session["mode"] == "subscription":
                assert customer is not None
                sub, inv = self._start_subscription(session, customer, pm, events)
                session.update(subscription=sub["id"], invoice=inv["id"])
            else:
                intent = self._pay(
                    session["amount_total"],
                    customer,
                    pm,
                    session["_payment_intent_data"].get("metadata") or {},
                    session["_payment_intent_data"].get("description"),
                    events,
                )
                session["payment_intent"] = intent["id"]
            session.update(status="complete", payment_status="paid")
            events.append(self._emit("checkout.session.completed", session))
        return [self.deliver(e) for e in events]

    def checkout_redirect(self, session_id: str) -> str:
        with self._lock:
            session = self._obj(session_id, "checkout.session")
            return (session["success_url"] or "").replace("{CHECKOUT_SESSION_ID}", session_id)

    def _session_customer(
        self, session: dict[str, Any], events: list[dict[str, Any]]
    ) -> dict[str, Any] | None:
        if session["customer"]:
            return self.objects[session["customer"]]
        if session["mode"] == "payment":
            return None  # customer_creation=if_required: a one-off payment needs none
        customer = self._put(so.customer({"email": session["customer_email"]}))
        session["customer"] = customer["id"]
        events.append(self._emit("customer.created", customer))
        return customer

    def _start_subscription(
        self,
        session: dict[str, Any],
        customer: dict[str, Any],
        pm: dict[str, Any],
        events: list[dict[str, Any]],
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        start = so.now()
        end = so.add_month(start)
        metadata = so.merge_metadata({}, session["_subscription_data"].get("metadata") or {})
        sub = self._put(so.subscription(customer["id"], metadata, pm["id"], start))
        for price_id, quantity in session["_line_items"]:
            item = so.subscription_item(self.objects[price_id], sub["id"], quantity, start, end)
            sub["items"]["data"].append(self._put(item))
        sub["items"]["total_count"] = len(sub["items"]["data"])
        customer["invoice_settings"]["default_payment_method"] = pm["id"]
        events.append(self._emit("customer.subscription.created", sub))
        inv = self._invoice(sub, customer, "subscription_create", (start, start), usage=None)
        self._settle_invoice(inv, sub, customer, pm, events, paid=True)
        previous = {"status": "incomplete", "latest_invoice": None}
        sub.update(status="active", latest_invoice=inv["id"])
        events.append(self._emit("customer.subscription.updated", sub, previous))
        return sub, inv

    def _invoice(
        self,
        sub: dict[str, Any],
        customer: dict[str, Any],
        reason: str,
        period: tuple[int, int],
        usage: tuple[int, int] | None,
    ) -> dict[str, Any]:
        """A draft invoice: licensed items for their current period, and (`usage` = the
        closed period) metered items with the meter's total for that period."""
        number = f"{customer['invoice_prefix']}-{customer['next_invoice_sequence']:04d}"
        inv = self._put(so.invoice(sub, customer, reason, period, number))
        for item in sub["items"]["data"]:
            price_obj = item["price"]
            product_name = self.objects[price_obj["product"]]["name"]
            recurring = price_obj["recurring"] or {}
            if recurring.get("usage_type") == "metered":
                if usage is None:
                    continue
                meter_obj = self.objects[recurring["meter"]]
                quantity = self.meter_total(customer["id"], meter_obj["event_name"], *usage)
                line_period = usage
            else:
                quantity = item.get("quantity", 1)
                line_period = (item["current_period_start"], item["current_period_end"])
            line = so.invoice_line(inv["id"], item, quantity, line_period, product_name)
            inv["lines"]["data"].append(line)
        inv["lines"]["total_count"] = len(inv["lines"]["data"])
        total = sum(line["amount"] for line in inv["lines"]["data"])
        inv.update(
            amount_due=total,
            amount_remaining=total,
            subtotal=total,
            subtotal_excluding_tax=total,
            total=total,
            total_excluding_tax=total,
        )
        return inv

    def _settle_invoice(
        self,
        inv: dict[str, Any],
        sub: dict[str, Any],
        customer: dict[str, Any],
        pm: dict[str, Any] | None,
        events: list[dict[str, Any]],
        *,
        paid: bool,
    ) -> None:
        events.append(self._emit("invoice.created", inv))
        moment = so.now()
        customer["next_invoice_sequence"] += 1
        inv.update(
            status="open",
            number=inv["_number"],
            effective_at=moment,
            hosted_invoice_url=f"{self.url}/invoice/{inv['id']}",
            invoice_pdf=f"{self.url}/invoice/{inv['id']}/pdf",
        )
        inv["status_transitions"]["finalized_at"] = moment
        events.append(self._emit("invoice.finalized", inv))
        inv.update(attempted=True, attempt_count=inv["attempt_count"] + 1)
        if not paid:
            inv["next_payment_attempt"] = moment + 3 * 86400
            events.append(self._emit("invoice.payment_failed", inv))
            return
        if inv["amount_due"] > 0 and pm is not None:
            self._pay(inv["amount_due"], customer, pm, {}, "Subscription update", events)
        inv.update(
            status="paid",
            amount_paid=inv["amount_due"],
            amount_remaining=0,
            ending_balance=0,
        )
        inv["status_transitions"]["paid_at"] = so.now()
        events.append(self._emit("invoice.paid", inv))
        events.append(self._emit("invoice.payment_succeeded", inv))

    def _pay(
        self,
        amount: int,
        customer: dict[str, Any] | None,
        pm: dict[str, Any],
        metadata: dict[str, str],
        description: str | None,
        events: list[dict[str, Any]],
    ) -> dict[str, Any]:
        intent = self._put(
            so.payment_intent(amount, customer["id"] if customer else None, metadata, description)
        )
        events.append(self._emit("payment_intent.created", intent))
        txn = so.balance_transaction(amount, "")
        ch = self._put(so.charge(intent, pm, txn["id"]))
        txn["source"] = ch["id"]
        self._put(txn)
        intent.update(
            status="succeeded",
            amount_received=amount,
            latest_charge=ch["id"],
            payment_method=pm["id"],
        )
        events.append(self._emit("charge.succeeded", ch))
        events.append(self._emit("payment_intent.succeeded", intent))
        return intent

    def renew(self, subscription_id: str, *, paid: bool = True) -> list[int]:
        """The next period starts: items move on a month, an invoice bills the new period
        (and the closed period's metered usage); paid, or failed (→ past_due)."""
        with self._lock:
            sub = self._obj(subscription_id, "subscription")
            if sub["status"] == "canceled":
                raise ValueError(f"subscription {subscription_id} is canceled")
            customer = self.objects[sub["customer"]]
            pm = self.objects.get(sub["default_payment_method"] or "")
            events: list[dict[str, Any]] = []
            closed = _period(sub)
            previous_items = {"items": _public(sub)["items"]}
            for item in sub["items"]["data"]:
                start = item["current_period_end"]
                item.update(current_period_start=start, current_period_end=so.add_month(start))
            events.append(self._emit("customer.subscription.updated", sub, previous_items))
            inv = self._invoice(sub, customer, "subscription_cycle", closed, usage=closed)
            self._settle_invoice(inv, sub, customer, pm, events, paid=paid)
            sub["latest_invoice"] = inv["id"]
            if not paid:
                previous = {"status": sub["status"]}
                sub["status"] = "past_due"
                events.append(self._emit("customer.subscription.updated", sub, previous))
        return [self.deliver(e) for e in events]

    def set_subscription_status(self, subscription_id: str, status: str) -> list[int]:
        with self._lock:
            sub = self._obj(subscription_id, "subscription")
            previous = {"status": sub["status"]}
            sub["status"] = status
            event = self._emit("customer.subscription.updated", sub, previous)
        return [self.deliver(event)]

    def cancel_subscription(
        self, subscription_id: str, *, at_period_end: bool = False
    ) -> list[int]:
        """Cancel now (customer.subscription.deleted) or at the period's end (updated)."""
        with self._lock:
            sub = self._obj(subscription_id, "subscription")
            if at_period_end:
                previous = {"cancel_at_period_end": False, "cancel_at": None}
                sub.update(cancel_at_period_end=True, cancel_at=_period(sub)[1])
                sub["cancellation_details"]["reason"] = "cancellation_requested"
                event = self._emit("customer.subscription.updated", sub, previous)
            else:
                self._cancel_now(sub)
                event = self._emit("customer.subscription.deleted", sub)
        return [self.deliver(event)]

    # -- events and delivery ---------------------------------------------------------------

    def build_event(
        self, event_type: str, obj: dict[str, Any], previous: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """An event of `type` about `obj` (kept, so GET /v1/events/<id> finds it)."""
        with self._lock:
            return _public(self._emit(event_type, obj, previous))

    def signed(
        self, event: dict[str, Any], *, signature: bool | str | None = True
    ) -> tuple[bytes, dict[str, str]]:
        """The body and headers Stripe would POST for `event`. signature: True (valid),
        "bad" (signed with another secret), None/False (no header)."""
        body = json.dumps(_public(event), indent=2).encode()
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
        }
        if signature == "bad":
            headers["Stripe-Signature"] = sign(body, "whsec_not_the_endpoint_secret")
        elif signature:
            headers["Stripe-Signature"] = sign(body, self.webhook_secret)
        return body, headers

    def deliver(self, event: dict[str, Any], *, signature: bool | str | None = True) -> int:
        """POST `event` to the webhook (URL or sender); returns the HTTP status."""
        body, headers = self.signed(event, signature=signature)
        if self.sender is not None:
            status = self.sender(body, headers)
        elif self.webhook_url:
            status = httpx.post(
                self.webhook_url, content=body, headers=headers, timeout=60
            ).status_code
        else:
            raise RuntimeError("FakeStripe has no webhook target: call set_webhook() first")
        with self._lock:
            self.deliveries.append((event["id"], event["type"], status))
        return status

    def deliver_pending(self) -> list[int]:
        with self._lock:
            events, self.pending = self.pending, []
        return [self.deliver(e) for e in events]

    # -- pages -------------------------------------------------------------------------------

    def _page(self, method: str, path: str, body: bytes) -> tuple[int, str, bytes, dict[str, str]]:
        match = re.fullmatch(r"/(checkout|portal)/([A-Za-z0-9_]+)(/[a-z]+)?", path)
        if not match:
            return 404, "text/plain", b"not found", {}
        kind, object_id, action = match.groups()
        try:
            if kind == "checkout":
                return self._checkout_page(method, object_id, action)
            return self._portal_page(method, object_id, action, decode_form(body.decode()))
        except ApiError as exc:
            return exc.status, "text/plain", exc.message.encode(), {}

    def _checkout_page(
        self, method: str, session_id: str, action: str | None
    ) -> tuple[int, str, bytes, dict[str, str]]:
        if method == "POST" and action == "/pay":
            with self._lock:
                open_ = self._obj(session_id, "checkout.session")["status"] == "open"
            if open_:
                self.pay_checkout(session_id)
            return 303, "text/plain", b"", {"Location": self.checkout_redirect(session_id)}
        with self._lock:
            session = _public(self._obj(session_id, "checkout.session"))
            rows = ""
            for line in self._session_line_items(session)["data"]:
                name = html.escape(self.objects[line["price"]["product"]]["name"])
                amount = line["amount_total"] / 100
                shown = "metered usage" if line["quantity"] is None else f"${amount:.2f}"
                rows += f"<li>{name}: {shown}</li>"
        cancel = html.escape(session["cancel_url"] or "/")
        form = (
            f'<form method="post" action="/checkout/{session_id}/pay">'
            '<button type="submit" id="pay">Pay</button></form>'
            if session["status"] == "open"
            else f"<p>This session is {session['status']}.</p>"
        )
        page = (
            "<!doctype html><html lang=en><head><meta charset=utf-8>"
            "<title>Fake Stripe Checkout</title></head><body><main>"
            f"<h1>Checkout ({session['mode']})</h1><ul>{rows}</ul>"
            f"<p>Total: ${session['amount_total'] / 100:.2f}</p>{form}"
            f'<a href="{cancel}" id="cancel">Cancel</a></main></body></html>'
        )
        return 200, "text/html; charset=utf-8", page.encode(), {}

    def _portal_page(
        self, method: str, session_id: str, action: str | None, form: dict[str, Any]
    ) -> tuple[int, str, bytes, dict[str, str]]:
        with self._lock:
            portal = _public(self._obj(session_id, "billing_portal.session"))
            subs = [
                s
                for s in self.find("subscription", customer=portal["customer"])
                if s["status"] != "canceled"
            ]
        if method == "POST" and action == "/cancel":
            if form.get("subscription") in {s["id"] for s in subs}:
                self.cancel_subscription(form["subscription"], at_period_end=True)
            return 303, "text/plain", b"", {"Location": f"/portal/{session_id}"}
        rows = "".join(
            f"<li>{html.escape(s['id'])}: {s['status']}"
            + (
                " (cancels at period end)"
                if s["cancel_at_period_end"]
                else f'<form method="post" action="/portal/{session_id}/cancel">'
                f'<input type="hidden" name="subscription" value="{s["id"]}">'
                '<button type="submit">Cancel subscription</button></form>'
            )
            + "</li>"
            for s in subs
        )
        back = html.escape(portal["return_url"] or "/")
        page = (
            "<!doctype html><html lang=en><head><meta charset=utf-8>"
            "<title>Fake Stripe customer portal</title></head><body><main>"
            f"<h1>Billing portal</h1><ul>{rows or '<li>No subscription</li>'}</ul>"
            f'<a href="{back}" id="return">Return</a></main></body></html>'
        )
        return 200, "text/html; charset=utf-8", page.encode(), {}


def _collection_routes() -> list[tuple[str, re.Pattern[str], str]]:
    routes: list[tuple[str, str, str]] = [
        ("GET", r"/v1/account", "get_account"),
        ("GET", r"/v1/accounts/(?P<id>[^/]+)", "get_account"),
        ("GET", r"/v1/customers/(?P<id>[^/]+)/payment_methods", "list_customer_payment_methods"),
        ("GET", r"/v1/products/(?P<id>[^/]+)/features", "list_product_features"),
        ("POST", r"/v1/customers", "create_customer"),
        ("POST", r"/v1/customers/(?P<id>[^/]+)", "update_customer"),
        ("DELETE", r"/v1/customers/(?P<id>[^/]+)", "delete_customer"),
        ("POST", r"/v1/products", "create_product"),
        ("POST", r"/v1/products/(?P<id>[^/]+)", "update_product"),
        ("POST", r"/v1/prices", "create_price"),
        ("POST", r"/v1/prices/(?P<id>[^/]+)", "update_price"),
        ("POST", r"/v1/billing/meters", "create_meter"),
        ("POST", r"/v1/billing/meters/(?P<id>[^/]+)/deactivate", "deactivate_meter"),
        ("POST", r"/v1/billing/meters/(?P<id>[^/]+)", "update_meter"),
        ("POST", r"/v1/billing/meter_events", "create_meter_event"),
        ("POST", r"/v1/checkout/sessions", "create_checkout_session"),
        ("GET", r"/v1/checkout/sessions/(?P<id>[^/]+)/line_items", "list_session_line_items"),
        ("POST", r"/v1/checkout/sessions/(?P<id>[^/]+)/expire", "expire_checkout_session"),
        ("POST", r"/v1/billing_portal/sessions", "create_portal_session"),
        ("POST", r"/v1/subscriptions/(?P<id>[^/]+)", "update_subscription"),
        ("DELETE", r"/v1/subscriptions/(?P<id>[^/]+)", "delete_subscription"),
    ]
    compiled = [(m, re.compile(p), n) for m, p, n in routes]
    for coll in COLLECTIONS:
        if coll == "billing_portal/sessions":
            continue  # Stripe has no retrieve or list for portal sessions
        compiled.append(("GET", re.compile(rf"/v1/(?P<coll>{coll})"), "_list_generic"))
        compiled.append(("GET", re.compile(rf"/v1/(?P<coll>{coll})/(?P<id>[^/]+)"), "_retrieve"))
    compiled.append(("GET", re.compile(r"/v1/invoices/(?P<id>[^/]+)/lines"), "list_invoice_lines"))
    return compiled


ROUTES = _collection_routes()


class _Handler(BaseHTTPRequestHandler):
    owner: FakeStripe
    protocol_version = "HTTP/1.1"

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        try:
            status, ctype, payload, extra = self.owner.handle(
                self.command, self.path, body, headers
            )
        except Exception as exc:  # a bug in the fake: answer like Stripe's 500, loudly
            status, ctype, extra = 500, "application/json", {}
            payload = json.dumps(
                {"error": {"type": "api_error", "message": f"fake stripe bug: {exc!r}"}}
            ).encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(payload)))
        for key, value in extra.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_DELETE = _serve

    def log_message(self, format: str, *args: Any) -> None:
        return
