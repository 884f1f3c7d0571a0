"""What the portal's pages show, shaped for templates (reads only; owners' services write)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import F

from apps.billing.models import LedgerEntry
from apps.keys.models import ApiKey
from apps.portal.workspace import Workspace
from apps.tenants.models import start_of_month

ZERO = Decimal(0)


@dataclass(frozen=True)
class BudgetView:
    """The tenant scope of `billing.services.budget_status`, plus the gauge's numbers."""

    included: Decimal  # the period's granted budget (the plan's)
    credit: Decimal  # prepaid credit at hand
    spent: Decimal
    reserved: Decimal  # held by requests in flight
    remaining: Decimal
    total: Decimal  # what the period allows: included plus credit (billing's Budget.available)
    used: Decimal  # spent plus reserved (Budget.used)
    period_start: datetime
    resets_at: datetime

    @property
    def percent_used(self) -> int:
        if self.total <= 0:
            return 0
        return min(100, int(self.used * 100 / self.total))

    @property
    def gauge(self) -> dict[str, str]:
        """<meter> attributes as plain numbers (templates would localise a Decimal)."""
        top = self.total if self.total > 0 else Decimal(1)
        return {
            "max": f"{top:f}",
            "value": f"{min(self.used, top):f}",
            "high": f"{top * Decimal('0.8'):f}",
        }


def budget_view(status: dict[str, Any] | None) -> BudgetView | None:
    """None when the tenant has no budget row (it can spend nothing: shown as such)."""
    if status is None:
        return None
    return BudgetView(
        included=status["limit"] or ZERO,
        credit=status["credit"],
        spent=status["spent"],
        reserved=status["reserved"],
        remaining=status["remaining"],
        total=status["available"],
        used=status["used"],
        period_start=status["period_start"],
        resets_at=status["next_reset_at"],
    )


def period_start(budget: BudgetView | None) -> datetime:
    return budget.period_start if budget else start_of_month()


@dataclass(frozen=True)
class KeyRow:
    key: ApiKey
    owner: str  # whose key: the member's email, or "workspace" for a key of nobody
    can_revoke: bool

    @property
    def status(self) -> str:
        if self.key.is_revoked:
            return "revoked"
        if self.key.is_expired:
            return "expired"
        return "active"


def key_rows(workspace: Workspace) -> list[KeyRow]:
    """Owners and admins see every key of the workspace; members see their own."""
    keys = ApiKey.objects.filter(tenant=workspace.tenant).select_related("member__user")
    if not workspace.is_admin:
        keys = keys.filter(member=workspace.membership)
    own = workspace.membership.pk
    return [
        KeyRow(
            key=key,
            owner=key.member.user.email if key.member else "workspace",
            can_revoke=not key.is_revoked and (workspace.is_admin or key.member_id == own),
        )
        # Usable keys first, newest first; revoked ones after them.
        for key in keys.order_by(F("revoked_at").asc(nulls_first=True), "-created_at")
    ]


def ledger_rows(workspace: Workspace, limit: int = 20) -> list[LedgerEntry]:
    return list(LedgerEntry.objects.filter(tenant=workspace.tenant)[:limit])
