"""The Celery app. Tasks sent inside a tenant context run in that tenant's schema."""

import os

from tenant_schemas_celery.app import CeleryApp

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cloudfreedom.settings.local")

app = CeleryApp("cloudfreedom")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Every periodic task is declared in cloudfreedom/schedules.py.
from cloudfreedom.schedules import BEAT_SCHEDULE  # noqa: E402

app.conf.beat_schedule = BEAT_SCHEDULE
