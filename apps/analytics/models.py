"""Usage rollups: per-request records summed into hourly and daily buckets. Public schema.

The raw records stay in each tenant's schema; the rollups live here so staff analytics and
the usage summary API read one small table instead of visiting every schema.
"""

from __future__ import annotations

from django.db import models

from apps.tenants.models import Tenant

MONEY = {"max_digits": 20, "decimal_places": 8}

# Rollups store 0 (ids) and "" (provider) for "none" instead of NULL, so the unique
# constraint and ON CONFLICT treat "no key" as one value. Database ids start at 1.
NONE_ID = 0


class UsageRollup(models.Model):
    class Granularity(models.TextChoices):
        HOUR = "hour", "Hour"
        DAY = "day", "Day"

    granularity = models.CharField(max_length=4, choices=Granularity.choices)
    bucket = models.DateTimeField(help_text="Start of the hour or the day (UTC).")
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="usage_rollups")
    model = models.CharField(max_length=200)
    api_key_id = models.BigIntegerField(default=NONE_ID, help_text="0: no key.")
    member_id = models.BigIntegerField(default=NONE_ID, help_text="0: no member.")
    provider = models.CharField(max_length=100, blank=True)

    requests = models.BigIntegerField(default=0)
    errors = models.BigIntegerField(default=0)
    prompt_tokens = models.BigIntegerField(default=0)
    completion_tokens = models.BigIntegerField(default=0)
    cached_tokens = models.BigIntegerField(default=0)
    cost = models.DecimalField(**MONEY, default=0)
    latency_ms_total = models.BigIntegerField(default=0)
    # Time to first token is absent for some requests, so its average needs its own count.
    ttft_ms_total = models.BigIntegerField(default=0)
    ttft_count = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ("-bucket", "model")
        constraints = [
            # Tenant first: the same index serves every per-tenant range query.
            models.UniqueConstraint(
                fields=(
                    "tenant",
                    "granularity",
                    "bucket",
                    "model",
                    "api_key_id",
                    "member_id",
                    "provider",
                ),
                name="usagerollup_unique_bucket_group",
            )
        ]
        indexes = [models.Index(fields=("granularity", "bucket"), name="usagerollup_gran_bucket")]

    def __str__(self) -> str:
        return f"{self.tenant_id} {self.granularity} {self.bucket:%Y-%m-%d %H:%M} {self.model}"

    @property
    def avg_latency_ms(self) -> float | None:
        return self.latency_ms_total / self.requests if self.requests else None

    @property
    def avg_ttft_ms(self) -> float | None:
        return self.ttft_ms_total / self.ttft_count if self.ttft_count else None


class AggregationState(models.Model):
    """How far a tenant's records have been rolled up. Its row lock also serialises runs."""

    tenant = models.OneToOneField(
        Tenant, on_delete=models.CASCADE, primary_key=True, related_name="aggregation_state"
    )
    watermark = models.DateTimeField(
        null=True, blank=True, help_text="Records created before this (minus the margin) are in."
    )
    last_run_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.tenant_id} @ {self.watermark}"
