"""last_used_at is written in batches, not per request."""

from __future__ import annotations

import asyncio

import redis
from django.conf import settings

from apps.gateway.keyuse import REDIS_HASH, flush_key_use, note_key_used, push_key_use
from apps.keys.models import ApiKey
from tests.support.live import World


def test_noted_keys_are_flushed_in_one_batch(world: World) -> None:
    client = redis.Redis.from_url(settings.REDIS_URL)
    client.delete(REDIS_HASH)
    a, _ = world.new_key(name="use-a")
    b, _ = world.new_key(name="use-b")

    async def note() -> int:
        note_key_used(a.pk)
        note_key_used(b.pk)
        return await push_key_use()

    # Other tests' requests may be pending in this process too.
    assert asyncio.run(note()) >= 2
    assert ApiKey.objects.get(pk=a.pk).last_used_at is None  # nothing written yet
    assert flush_key_use(client) >= 2
    assert ApiKey.objects.get(pk=a.pk).last_used_at is not None
    assert ApiKey.objects.get(pk=b.pk).last_used_at is not None
    assert flush_key_use(client) == 0  # the hash was taken


def test_a_batch_whose_update_failed_is_written_by_the_next_flush(
    world: World, monkeypatch: object
) -> None:
    import pytest

    from apps.gateway import keyuse

    client = redis.Redis.from_url(settings.REDIS_URL)
    client.delete(REDIS_HASH)
    key, _ = world.new_key(name="use-retry")
    client.hset(REDIS_HASH, str(key.pk), "1700000000.0")

    real_sql = keyuse.UPDATE_SQL
    monkeypatch.setattr(keyuse, "UPDATE_SQL", "UPDATE keys_apikey SET no_such_column = 1")  # type: ignore[attr-defined]
    with pytest.raises(Exception):  # noqa: B017 - the database error, whatever its class
        flush_key_use(client)
    assert ApiKey.objects.get(pk=key.pk).last_used_at is None
    monkeypatch.setattr(keyuse, "UPDATE_SQL", real_sql)  # type: ignore[attr-defined]

    assert flush_key_use(client) >= 1
    assert ApiKey.objects.get(pk=key.pk).last_used_at is not None
    assert not list(client.scan_iter(f"{REDIS_HASH}:flushing:*"))


def test_the_beat_schedule_names_registered_tasks() -> None:
    from cloudfreedom.celery import app
    from cloudfreedom.schedules import BEAT_SCHEDULE

    app.loader.import_default_modules()
    assert app.conf.beat_schedule == BEAT_SCHEDULE
    for entry in BEAT_SCHEDULE.values():
        assert entry["task"] in app.tasks, entry["task"]


def test_flushing_without_redis_configured_is_a_no_op(settings: object) -> None:
    settings.REDIS_URL = ""  # type: ignore[attr-defined]
    assert flush_key_use() == 0
