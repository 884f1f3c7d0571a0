"""The Celery app. Tasks sent inside a tenant context run in that tenant's schema."""

import os

from tenant_schemas_celery.app import CeleryApp

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cloudfreedom.settings.local")

app = CeleryApp("cloudfreedom")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
