"""dj-stripe 2.11.0's three migrations in one: the same tables, columns, constraints and
indexes, built directly.

Its 0002 removes 514 fields one at a time; Django re-renders the related models after each,
so replaying that history cost minutes of CPU per schema (the public one and the tenant
template), most of `make run`'s first start and of every test-database build. Generated with
`makemigrations djstripe` into an empty module, then given `replaces`: a database migrated
the long way counts this as applied, and one built from this records the three originals,
so dropping MIGRATION_MODULES later changes nothing. tests/core/test_djstripe_migrations.py
checks it against dj-stripe's models and version.

The generated operations live in the `_*.py` modules beside this one (Django's migration
loader skips names starting with "_"), one per group of Stripe objects, in the generated
order: an operation may only refer to models an earlier one created.
"""

from django.conf import settings
from django.db import migrations

from cloudfreedom.migrations.djstripe import (
    _accounts_customers_charges,
    _issuing_payments,
    _catalog_subscriptions,
    _tax_transfers_webhooks,
)

class Migration(migrations.Migration):

    initial = True

    replaces = [
        ("djstripe", "0001_initial"),
        ("djstripe", "0002_2_10"),
        ("djstripe", "0003_2_11"),
    ]

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    # Split into modules by what they create (each under ~400 lines); the order is fixed.
    operations = [
        *_accounts_customers_charges.OPERATIONS,
        *_issuing_payments.OPERATIONS,
        *_catalog_subscriptions.OPERATIONS,
        *_tax_transfers_webhooks.OPERATIONS,
    ]
