"""Every periodic task, in one place, with crontab schedules.

Loaded by the Celery app (`app.conf.beat_schedule = BEAT_SCHEDULE`); the database scheduler
of django-celery-beat copies these entries into its tables at start. Every task here works
on the public schema and visits tenants itself, so no entry is fanned out per tenant. (With
tenant_schemas_celery's TenantAwareScheduler each entry would need
`"tenant_schemas": ["public"]`; the configured DatabaseScheduler rejects that key.)
"""

from __future__ import annotations

from typing import Any

from celery.schedules import crontab

BEAT_SCHEDULE: dict[str, dict[str, Any]] = {
    # Budgets reset at each tenant's own anchor; a run every minute keeps "resets at" exact
    # to the minute, and a run with nothing due is one indexed query.
    "billing.reset_due_budgets": {
        "task": "billing.reset_due_budgets",
        "schedule": crontab(minute="*"),
        "options": {"expires": 55},
    },
    # Reservations time out after 15 minutes; sweeping every minute frees a dead request's
    # hold at most a minute after that.
    "billing.release_expired_reservations": {
        "task": "billing.release_expired_reservations",
        "schedule": crontab(minute="*"),
        "options": {"expires": 55},
    },
    # Finished reservations are working state; the ledger and usage records keep history.
    "billing.prune_reservations": {
        "task": "billing.prune_reservations",
        "schedule": crontab(minute="17", hour="3"),
        "options": {"expires": 3600},
    },
    # Overage goes to Stripe's meter every 15 minutes; a closed period's final total goes
    # on the first run after its close, before Stripe finalizes the renewal invoice (~1 h).
    "billing.report_overage": {
        "task": "billing.report_overage",
        "schedule": crontab(minute="*/15"),
        "options": {"expires": 840},
    },
    "analytics.aggregate_usage": {
        "task": "analytics.aggregate_usage",  # apps.analytics.tasks.aggregate_usage
        "schedule": crontab(minute="*/5"),
        "options": {"expires": 280},
    },
    "keys.flush_key_use": {
        "task": "keys.flush_key_use",  # apps.keys.tasks.flush_key_use
        "schedule": crontab(minute="*"),
        "options": {"expires": 55},
    },
}
