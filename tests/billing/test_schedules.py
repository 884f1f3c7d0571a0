from __future__ import annotations

import importlib
import importlib.util

from celery.schedules import crontab

from cloudfreedom.schedules import BEAT_SCHEDULE


def test_every_periodic_task_is_declared_with_a_crontab() -> None:
    assert set(BEAT_SCHEDULE) >= {
        "billing.reset_due_budgets",
        "billing.release_expired_reservations",
        "analytics.aggregate_usage",
        "keys.flush_key_use",
    }
    for entry in BEAT_SCHEDULE.values():
        assert isinstance(entry["schedule"], crontab)
    assert BEAT_SCHEDULE["analytics.aggregate_usage"]["schedule"] == crontab(minute="*/5")


def test_the_scheduled_tasks_exist_under_those_names() -> None:
    from cloudfreedom.celery import app

    modules = {
        "apps.billing.tasks": ["billing.reset_due_budgets", "billing.release_expired_reservations"]
    }
    # Other apps' tasks are checked once their modules exist (written in parallel).
    for module, name in (
        ("apps.analytics.tasks", "analytics.aggregate_usage"),
        ("apps.keys.tasks", "keys.flush_key_use"),
    ):
        if importlib.util.find_spec(module) is not None:
            modules[module] = [name]
    for module, names in modules.items():
        importlib.import_module(module)
        for name in names:
            assert name in app.tasks, name
