"""The portal's forms. Money is parsed as Decimal, never float."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.conf import settings

from apps.billing import checkout


class KeyForm(forms.Form):
    name = forms.CharField(
        max_length=100,
        initial="default",
        help_text="To tell your keys apart, e.g. “laptop” or “production”.",
        widget=forms.TextInput(attrs={"aria-describedby": "key-name-help"}),
    )

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("Give the key a name.")
        return name


class WorkspaceForm(forms.Form):
    name = forms.CharField(
        label="Workspace name",
        max_length=200,
        help_text="Its address comes from the name (e.g. “Acme Labs” → acme-labs).",
        widget=forms.TextInput(attrs={"aria-describedby": "ws-name-help"}),
    )


class TopUpForm(forms.Form):
    """A credit purchase's amount. Billing's `topup_amount` parses what was typed and decides
    what is acceptable (plain digits, whole cents, the site's BILLING_TOPUP_MIN/MAX): one
    rule for the form and checkout. It gets the raw text: a DecimalField would accept
    "1e3" and hand over 1000."""

    amount = forms.CharField(
        label="Amount (USD)",
        max_length=20,
        widget=forms.NumberInput(
            attrs={"step": "0.01", "inputmode": "decimal", "aria-describedby": "topup-help"}
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        low: Decimal = settings.BILLING_TOPUP_MIN
        high: Decimal = settings.BILLING_TOPUP_MAX
        field = self.fields["amount"]
        field.widget.attrs.update({"min": f"{low:f}", "max": f"{high:f}"})
        field.help_text = f"Between ${low:,.2f} and ${high:,.2f}. Credit never expires."

    def clean_amount(self) -> Decimal:
        try:
            return checkout.topup_amount(self.cleaned_data["amount"])
        except checkout.CheckoutError as exc:
            raise forms.ValidationError(str(exc)) from exc
