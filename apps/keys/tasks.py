"""Celery tasks of the keys app (scheduled in cloudfreedom/schedules.py)."""

from __future__ import annotations

from celery import shared_task

from apps.keys.keyuse import flush_key_use as _flush


@shared_task(name="keys.flush_key_use")
def flush_key_use() -> int:
    """Batch-write API keys' last_used_at from what the web processes collected."""
    return _flush()
