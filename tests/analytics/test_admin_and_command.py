from __future__ import annotations

from collections.abc import Callable
from io import StringIO
from typing import Any

from django.core.management import call_command
from django.test import Client

from apps.analytics.models import UsageRollup
from tests.analytics.conftest import assert_exact
from tests.support import factories


def test_the_command_rebuilds_one_tenant(
    tenant_a: Any, tenant_b: Any, populate: Callable[[Any], None]
) -> None:
    populate(tenant_a)
    out = StringIO()

    call_command("aggregate_usage", "--tenant", tenant_a.slug, "--full", stdout=out)

    assert tenant_a.slug in out.getvalue()
    assert_exact(tenant_a)
    assert not UsageRollup.objects.filter(tenant=tenant_b).exists()


def test_the_admin_shows_rollups_read_only(tenant_a: Any, populate: Callable[[Any], None]) -> None:
    populate(tenant_a)
    call_command("aggregate_usage", stdout=StringIO())
    admin = factories.user(is_staff=True, is_superuser=True)
    client = Client(HTTP_HOST="localhost")
    client.force_login(admin)

    listing = client.get("/admin/analytics/usagerollup/")
    row = UsageRollup.objects.filter(tenant=tenant_a).first()
    detail = client.get(f"/admin/analytics/usagerollup/{row.pk}/change/")

    assert listing.status_code == 200
    assert b"Tenant A" in listing.content
    assert detail.status_code == 200
    assert b'name="_save"' not in detail.content
    assert client.get("/admin/analytics/usagerollup/add/").status_code == 403
    assert client.get("/admin/analytics/aggregationstate/").status_code == 200
