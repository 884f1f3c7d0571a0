"""The portal's forms. Money is parsed as Decimal (DecimalField), never float."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator


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
    """A credit purchase's amount, within the site's bounds (BILLING_TOPUP_MIN/MAX: below a
    few dollars the card fee eats it; the cap keeps a typo from becoming a large charge)."""

    amount = forms.DecimalField(
        label="Amount (USD)",
        max_digits=9,
        decimal_places=2,
        widget=forms.NumberInput(
            attrs={"step": "0.01", "inputmode": "decimal", "aria-describedby": "topup-help"}
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        low: Decimal = settings.BILLING_TOPUP_MIN
        high: Decimal = settings.BILLING_TOPUP_MAX
        field = self.fields["amount"]
        field.validators = [
            *field.validators,
            MinValueValidator(low, message=f"The smallest top-up is ${low:,.2f}."),
            MaxValueValidator(high, message=f"The largest top-up is ${high:,.2f}."),
        ]
        field.widget.attrs.update({"min": f"{low:f}", "max": f"{high:f}"})
        field.help_text = f"Between ${low:,.2f} and ${high:,.2f}. Credit never expires."
