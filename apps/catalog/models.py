"""Plans, providers, model routes and the price book. All in the public schema."""

from __future__ import annotations

import os
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from apps.catalog import crypto

MONEY = {"max_digits": 20, "decimal_places": 8}


class ProviderKind(models.TextChoices):
    OPENAI = "openai", "OpenAI"
    ANTHROPIC = "anthropic", "Anthropic"
    GEMINI = "gemini", "Google Gemini"
    OPENAI_COMPATIBLE = "openai_compatible", "OpenAI-compatible (Ollama, vLLM, Groq, Mistral, …)"
    MOCK = "mock", "Mock (demo and test provider, answers without any upstream)"


class Provider(models.Model):
    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=32, choices=ProviderKind.choices)
    base_url = models.URLField(blank=True, help_text="Empty for the mock provider.")
    api_key_env = models.CharField(
        max_length=100, blank=True, help_text="Name of an environment variable holding the key."
    )
    api_key_encrypted = models.TextField(blank=True, editable=False)
    timeout_seconds = models.DecimalField(max_digits=6, decimal_places=2, default=Decimal("120"))
    connect_timeout_seconds = models.DecimalField(
        max_digits=6, decimal_places=2, default=Decimal("10")
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name

    def set_api_key(self, plaintext: str) -> None:
        self.api_key_encrypted = crypto.encrypt(plaintext)

    def get_api_key(self) -> str:
        """The credential: the named environment variable wins over the stored one.
        Raises crypto.CredentialUnreadable when the stored one does not decrypt."""
        return crypto.resolve(self.api_key_env, self.api_key_encrypted)

    @property
    def has_credential(self) -> bool:
        return bool(
            self.api_key_encrypted or (self.api_key_env and os.environ.get(self.api_key_env))
        )


class ModelRoute(models.Model):
    """The public model name a client sends, routed to an ordered list of targets."""

    class Mode(models.TextChoices):
        CHAT = "chat", "Chat"
        EMBEDDING = "embedding", "Embedding"

    public_name = models.CharField(max_length=200, unique=True)
    mode = models.CharField(max_length=16, choices=Mode.choices, default=Mode.CHAT)
    description = models.CharField(max_length=300, blank=True)
    max_output_tokens = models.PositiveIntegerField(
        default=4096, help_text="The model's output cap; the worst case a request may cost."
    )
    context_window = models.PositiveIntegerField(default=128_000)
    retries = models.PositiveSmallIntegerField(
        default=1, help_text="Retries per target before falling back to the next one."
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("public_name",)

    def __str__(self) -> str:
        return self.public_name

    def current_price(self, at: timezone.datetime | None = None) -> ModelPrice | None:
        return ModelPrice.objects.effective(self, at)


class RouteTarget(models.Model):
    route = models.ForeignKey(ModelRoute, on_delete=models.CASCADE, related_name="targets")
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="targets")
    upstream_model = models.CharField(max_length=200)
    priority = models.PositiveSmallIntegerField(default=0, help_text="Lower goes first.")
    timeout_seconds = models.DecimalField(
        max_digits=6, decimal_places=2, null=True, blank=True, help_text="Overrides the provider's."
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ("route", "priority", "id")

    def __str__(self) -> str:
        return f"{self.route} → {self.provider}:{self.upstream_model}"


class ModelPriceQuerySet(models.QuerySet["ModelPrice"]):
    def in_force(self, at: timezone.datetime | None = None) -> ModelPriceQuerySet:
        """Prices whose period contains `at` (now by default)."""
        at = at or timezone.now()
        return self.filter(effective_from__lte=at).filter(
            Q(effective_to__isnull=True) | Q(effective_to__gt=at)
        )

    def effective(
        self, route: ModelRoute, at: timezone.datetime | None = None
    ) -> ModelPrice | None:
        return (
            self.in_force(at)
            .filter(route=route)
            # The id breaks a tie the same way the gateway's snapshot does.
            .order_by("-effective_from", "-id")
            .first()
        )


class ModelPrice(models.Model):
    """What a public model costs per 1M tokens, before a plan's markup. Never a silent $0:
    a route without a current price is not served to a budgeted tenant."""

    route = models.ForeignKey(ModelRoute, on_delete=models.CASCADE, related_name="prices")
    input_per_mtok = models.DecimalField(**MONEY, validators=[MinValueValidator(0)])
    output_per_mtok = models.DecimalField(**MONEY, validators=[MinValueValidator(0)])
    cached_input_per_mtok = models.DecimalField(**MONEY, validators=[MinValueValidator(0)])
    cache_write_per_mtok = models.DecimalField(**MONEY, validators=[MinValueValidator(0)])
    effective_from = models.DateTimeField(default=timezone.now)
    effective_to = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ModelPriceQuerySet.as_manager()

    class Meta:
        ordering = ("route", "-effective_from")
        # The database refuses bad money, whoever writes it (admin, shell, raw SQL): the
        # validators above only guard forms.
        constraints = [
            models.CheckConstraint(
                condition=Q(input_per_mtok__gte=0)
                & Q(output_per_mtok__gte=0)
                & Q(cached_input_per_mtok__gte=0)
                & Q(cache_write_per_mtok__gte=0),
                name="catalog_modelprice_prices_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(effective_to__isnull=True) | Q(effective_to__gt=F("effective_from")),
                name="catalog_modelprice_period_not_empty",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.route}: in {self.input_per_mtok} / out {self.output_per_mtok} per 1M"

    def clean(self) -> None:
        if self.effective_to and self.effective_to <= self.effective_from:
            raise ValidationError({"effective_to": "Must be after effective_from."})


class ProductQuerySet(models.QuerySet["Product"]):
    def on_sale(self) -> ProductQuerySet:
        """Plans customers may choose: active and public."""
        return self.filter(is_active=True, is_public=True)


class Product(models.Model):
    """A plan a tenant subscribes to."""

    name = models.CharField(max_length=100)
    slug = models.SlugField(unique=True)
    description = models.TextField(blank=True)
    monthly_price = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    currency = models.CharField(max_length=3, default="usd")
    monthly_budget = models.DecimalField(
        **MONEY, default=Decimal("0"), help_text="Usage the plan includes each month (USD)."
    )
    markup_percent = models.DecimalField(
        max_digits=6,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(0)],
        help_text="Added to model prices.",
    )
    rpm_limit = models.PositiveIntegerField(null=True, blank=True, help_text="Requests/minute.")
    tpm_limit = models.PositiveIntegerField(null=True, blank=True, help_text="Tokens/minute.")
    allowed_models = models.ManyToManyField(ModelRoute, blank=True, related_name="products")
    overage_cap = models.DecimalField(
        **MONEY,
        default=Decimal("0"),
        validators=[MinValueValidator(0)],
        help_text=(
            "Usage allowed beyond the included budget each month, billed afterwards at the "
            "same prices (reported to Stripe's meter). 0: no overage, the budget is a hard stop."
        ),
    )
    is_public = models.BooleanField(
        default=True, help_text="Listed on the pricing page and open to self-service signup."
    )
    signup_default = models.BooleanField(
        default=False,
        help_text="Given to every new signup's workspace without payment (a free plan). One "
        "at most, and free (monthly price 0).",
    )
    stripe_product_id = models.CharField(max_length=100, blank=True)
    stripe_price_id = models.CharField(max_length=100, blank=True)
    stripe_overage_price_id = models.CharField(
        max_length=100, blank=True, help_text="The metered price overage is billed at."
    )
    is_active = models.BooleanField(default=True)
    sort_order = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ProductQuerySet.as_manager()

    class Meta:
        ordering = ("sort_order", "monthly_price")
        constraints = [
            # A negative markup would sell below the price book; negative prices or budgets
            # would pay the customer.
            models.CheckConstraint(
                condition=Q(markup_percent__gte=0)
                & Q(monthly_price__gte=0)
                & Q(monthly_budget__gte=0),
                name="catalog_product_money_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(overage_cap__gte=0), name="catalog_product_overage_not_negative"
            ),
            # Signup hands this plan out without payment: it must be free, and unique.
            models.UniqueConstraint(
                fields=("signup_default",),
                condition=Q(signup_default=True),
                name="catalog_product_one_signup_default",
            ),
            models.CheckConstraint(
                condition=Q(signup_default=False) | Q(monthly_price=0),
                name="catalog_product_signup_default_is_free",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def markup_factor(self) -> Decimal:
        return Decimal(1) + self.markup_percent / Decimal(100)

    @property
    def is_on_sale(self) -> bool:
        return self.is_active and self.is_public

    @property
    def is_free(self) -> bool:
        return self.monthly_price == 0

    @property
    def period_limit(self) -> Decimal:
        """What a period of this plan lets a tenant spend: the included budget plus the
        overage the plan allows (billed afterwards)."""
        return self.monthly_budget + self.overage_cap

    def clean(self) -> None:
        if self.signup_default and self.monthly_price != 0:
            raise ValidationError({"signup_default": "Only a free plan can be given at signup."})
