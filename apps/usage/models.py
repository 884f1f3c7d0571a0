"""Per-request usage records. They live in each tenant's own schema."""

from __future__ import annotations

from django.db import models

MONEY = {"max_digits": 20, "decimal_places": 8}


class UsageRecord(models.Model):
    """Exactly one per request that reached an upstream (success, failure or abandoned)."""

    class Status(models.TextChoices):
        SUCCESS = "success", "Success"
        ERROR = "error", "Upstream error"
        CLIENT_CLOSED = "client_closed", "Client disconnected"
        INCOMPLETE = "incomplete", "Never settled (request died)"

    # Counted as errors on dashboards and in the analytics rollups.
    ERROR_STATUSES = (Status.ERROR.value, Status.INCOMPLETE.value)

    class Endpoint(models.TextChoices):
        CHAT = "chat", "/v1/chat/completions"
        MESSAGES = "messages", "/v1/messages"
        EMBEDDINGS = "embeddings", "/v1/embeddings"
        WEB_CHAT = "web_chat", "Chat page"

    request_id = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(db_index=True)
    # Ids of public-schema rows, kept as plain values: a record outlives key revocation and
    # tenant-schema rows must not hold constraints into shared tables.
    api_key_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    api_key_prefix = models.CharField(max_length=32, blank=True)
    member_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    user_id = models.BigIntegerField(null=True, blank=True)
    endpoint = models.CharField(max_length=16, choices=Endpoint.choices)
    model = models.CharField(max_length=200, help_text="The public model name the client sent.")
    provider = models.CharField(max_length=100, blank=True)
    upstream_model = models.CharField(max_length=200, blank=True)
    attempts = models.PositiveSmallIntegerField(default=1)
    attempt_log = models.JSONField(default=list, blank=True)
    prompt_tokens = models.PositiveIntegerField(default=0)
    completion_tokens = models.PositiveIntegerField(default=0)
    cached_tokens = models.PositiveIntegerField(default=0)
    cache_write_tokens = models.PositiveIntegerField(default=0)
    usage_reported = models.BooleanField(
        default=True,
        help_text="False when the gateway counted tokens because the upstream sent none.",
    )
    cost = models.DecimalField(**MONEY, default=0)
    status = models.CharField(max_length=16, choices=Status.choices)
    error_type = models.CharField(max_length=64, blank=True)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField(default=0)
    ttft_ms = models.PositiveIntegerField(null=True, blank=True)
    streamed = models.BooleanField(default=False)

    class Meta:
        ordering = ("-created_at",)
        constraints = [
            # What the ledger charged for the request; never a credit in disguise.
            models.CheckConstraint(condition=models.Q(cost__gte=0), name="usage_cost_not_negative")
        ]

    def __str__(self) -> str:
        return f"{self.request_id} {self.model} {self.status} ${self.cost}"
