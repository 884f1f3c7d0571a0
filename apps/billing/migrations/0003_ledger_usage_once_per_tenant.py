"""Usage ledger entries are unique per tenant and request id (was: per request id).

Request ids sent by an external proxy through the ingest API are only unique within a
tenant, so one tenant's id must neither block nor reveal another's. The settlement and
charge functions name the new conflict target.
"""

import importlib

from django.conf import settings
from django.db import migrations, models

_functions = importlib.import_module("apps.billing.migrations.0002_budget_functions")
_OLD = "ON CONFLICT (request_id) WHERE kind = 'usage'"
_NEW = "ON CONFLICT (tenant_id, request_id) WHERE kind = 'usage'"
assert _functions.SETTLE.count(_OLD) == 1 and _functions.CHARGE.count(_OLD) == 1

FORWARD = (_functions.SETTLE + _functions.CHARGE).replace(_OLD, _NEW)
BACKWARD = _functions.SETTLE + _functions.CHARGE


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0002_budget_functions"),
        ("tenants", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="ledgerentry",
            name="ledger_usage_once",
        ),
        migrations.AddConstraint(
            model_name="ledgerentry",
            constraint=models.UniqueConstraint(
                condition=models.Q(("kind", "usage")),
                fields=("tenant", "request_id"),
                name="ledger_usage_once_per_tenant",
            ),
        ),
        migrations.RunSQL(FORWARD, BACKWARD),
    ]
