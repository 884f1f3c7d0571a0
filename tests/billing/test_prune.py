from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from apps.billing import tasks
from apps.billing.models import Reservation
from tests.support import factories


def _reservation(tenant: Any, state: str, age: timedelta) -> Reservation:
    created = timezone.now() - age
    return Reservation.objects.create(
        request_id=uuid.uuid4().hex,
        tenant=tenant,
        amount=Decimal("0.01"),
        max_output_tokens=10,
        state=state,
        created_at=created,
        expires_at=created + timedelta(minutes=15),
    )


def test_it_deletes_only_finished_reservations_past_retention(db: Any) -> None:
    tenant = factories.tenant(product=factories.product())
    old_settled = _reservation(tenant, "settled", timedelta(days=8))
    old_expired = _reservation(tenant, "expired", timedelta(days=30))
    old_held = _reservation(tenant, "held", timedelta(days=30))
    recent_settled = _reservation(tenant, "settled", timedelta(days=1))

    assert tasks.prune_reservations() >= 2

    left = set(Reservation.objects.filter(tenant=tenant).values_list("id", flat=True))
    assert left == {old_held.id, recent_settled.id}
    assert old_settled.id not in left and old_expired.id not in left
