"""What the gateway knows about a request once the key is authenticated.

Snapshots are immutable and shared between requests (they come from per-process caches);
`RequestContext` is per request.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from decimal import Decimal

from apps.catalog.snapshot import PlanSnapshot
from apps.keys.lookup import KeySnapshot

__all__ = [
    "ENDPOINT_CHAT",
    "ENDPOINT_EMBEDDINGS",
    "ENDPOINT_MESSAGES",
    "ENDPOINT_MODELS",
    "KeySnapshot",  # the keys app's, re-exported likewise
    "PlanSnapshot",  # the catalog's, re-exported for the gateway's modules
    "RequestContext",
    "new_request_id",
]

ENDPOINT_CHAT = "chat"
ENDPOINT_MESSAGES = "messages"
ENDPOINT_EMBEDDINGS = "embeddings"
ENDPOINT_MODELS = "models"


@dataclass(slots=True)
class RequestContext:
    request_id: str
    endpoint: str
    key: KeySnapshot
    plan: PlanSnapshot | None
    started: float = field(default_factory=time.perf_counter)

    @property
    def budgeted(self) -> bool:
        """Whether this request is charged against budgets. Decided by the tenant's kind,
        never by having a plan: a customer without a plan spends credit only, and is
        refused unpriced models like every customer. Only the platform's own tenant is not
        budgeted (anything else the key lookup lets through is treated as a customer)."""
        return self.key.tenant_kind != "platform"

    @property
    def markup_factor(self) -> Decimal:
        return self.plan.markup_factor if self.plan is not None else Decimal(1)

    def may_use(self, model: str) -> bool:
        if self.key.allowed_models and model not in self.key.allowed_models:
            return False
        # Without a plan: every active route (the platform's tenant; a customer without
        # a plan, who pays each one from credit at its price).
        return self.plan is None or model in self.plan.allowed_models

    @property
    def tenant_rpm(self) -> int | None:
        if self.key.tenant_rpm is not None:
            return self.key.tenant_rpm
        return self.plan.rpm_limit if self.plan is not None else None

    @property
    def tenant_tpm(self) -> int | None:
        if self.key.tenant_tpm is not None:
            return self.key.tenant_tpm
        return self.plan.tpm_limit if self.plan is not None else None

    def elapsed_ms(self) -> int:
        return int((time.perf_counter() - self.started) * 1000)


def new_request_id() -> str:
    # Always generated here: a client-supplied id could collide with another tenant's.
    return "req_" + uuid.uuid4().hex
