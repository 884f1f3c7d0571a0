"""The `last_used_at` flush task moved from the gateway to this app and was renamed
`gateway.flush_key_use` → `keys.flush_key_use`. django-celery-beat's DatabaseScheduler adds
entries from the beat schedule but never deletes any, so the old entry would send an
unregistered task every minute: remove it (the scheduler adds the new one at start)."""

from __future__ import annotations

from typing import Any

from django.db import migrations

OLD_TASK = "gateway.flush_key_use"


def forget_old_entry(apps: Any, schema_editor: Any) -> None:
    periodic_task = apps.get_model("django_celery_beat", "PeriodicTask")
    periodic_task.objects.filter(task=OLD_TASK).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("keys", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(forget_old_entry, migrations.RunPython.noop)]
