"""last_used_at is written in batches, not per request."""

from __future__ import annotations

import asyncio
import importlib
from typing import Any

import pytest
import redis
from django.conf import settings
from django.db import DatabaseError

from apps.keys import keyuse
from apps.keys.keyuse import REDIS_HASH, flush_key_use, note_key_used, push_key_use
from apps.keys.models import ApiKey
from apps.keys.services import create_api_key


@pytest.fixture
def client() -> redis.Redis:
    c = redis.Redis.from_url(settings.REDIS_URL)
    c.delete(REDIS_HASH)
    for name in c.scan_iter(f"{REDIS_HASH}:flushing:*"):
        c.delete(name)
    return c


def test_noted_keys_are_flushed_in_one_batch(tenant_a: Any, client: redis.Redis) -> None:
    a = create_api_key(tenant=tenant_a, name="use-a").key
    b = create_api_key(tenant=tenant_a, name="use-b").key

    async def note() -> int:
        note_key_used(a.pk)
        note_key_used(b.pk)
        return await push_key_use()

    assert asyncio.run(note()) >= 2
    assert ApiKey.objects.get(pk=a.pk).last_used_at is None  # nothing written yet
    assert flush_key_use(client) >= 2
    assert ApiKey.objects.get(pk=a.pk).last_used_at is not None
    assert ApiKey.objects.get(pk=b.pk).last_used_at is not None
    assert flush_key_use(client) == 0  # the hash was taken


def test_a_batch_whose_update_failed_is_written_by_the_next_flush(
    tenant_a: Any, client: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = create_api_key(tenant=tenant_a, name="use-retry").key
    client.hset(REDIS_HASH, str(key.pk), "1700000000.0")

    real_sql = keyuse.UPDATE_SQL
    monkeypatch.setattr(keyuse, "UPDATE_SQL", "UPDATE public.keys_apikey SET no_such_column = 1")
    with pytest.raises(DatabaseError):
        flush_key_use(client)
    assert ApiKey.objects.get(pk=key.pk).last_used_at is None
    monkeypatch.setattr(keyuse, "UPDATE_SQL", real_sql)

    assert flush_key_use(client) >= 1
    assert ApiKey.objects.get(pk=key.pk).last_used_at is not None
    assert not list(client.scan_iter(f"{REDIS_HASH}:flushing:*"))


def test_closing_pushes_what_is_pending_and_can_be_repeated(
    tenant_a: Any, client: redis.Redis
) -> None:
    key = create_api_key(tenant=tenant_a, name="use-close").key

    async def note_then_close() -> None:
        note_key_used(key.pk)
        await keyuse.close()
        await keyuse.close()  # idempotent: a second shutdown hook is harmless

    asyncio.run(note_then_close())

    assert client.hget(REDIS_HASH, str(key.pk)) is not None


def test_the_beat_schedule_names_registered_tasks(db: Any) -> None:
    from cloudfreedom.celery import app
    from cloudfreedom.schedules import BEAT_SCHEDULE

    app.loader.import_default_modules()
    assert app.conf.beat_schedule == BEAT_SCHEDULE
    for entry in BEAT_SCHEDULE.values():
        assert entry["task"] in app.tasks, entry["task"]
    assert BEAT_SCHEDULE["keys.flush_key_use"]["task"] == "keys.flush_key_use"


def test_flushing_without_redis_configured_is_a_no_op(settings: Any) -> None:
    settings.REDIS_URL = ""
    assert flush_key_use() == 0


def test_the_renamed_flush_tasks_old_beat_entry_is_removed(db: Any) -> None:
    from django.apps import apps
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    every_minute = CrontabSchedule.objects.create(minute="*")
    PeriodicTask.objects.create(
        name="gateway.flush_key_use", task="gateway.flush_key_use", crontab=every_minute
    )
    PeriodicTask.objects.create(
        name="keys.flush_key_use", task="keys.flush_key_use", crontab=every_minute
    )
    migration = importlib.import_module("apps.keys.migrations.0002_flush_key_use_task_renamed")

    migration.forget_old_entry(apps, None)

    left = PeriodicTask.objects.filter(task__endswith=".flush_key_use")
    assert list(left.values_list("task", flat=True)) == ["keys.flush_key_use"]
