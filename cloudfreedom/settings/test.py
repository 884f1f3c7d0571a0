"""The test suite: real PostgreSQL and Redis, fixed secrets, fast hashing."""

import os

from cloudfreedom.settings.base import *  # noqa: F403
from cloudfreedom.settings.base import DATABASES, REDIS_URL

DEBUG = False
SECRET_KEY = "test-secret-key-not-for-production"  # noqa: S105
API_KEY_HMAC_SECRET = "test-api-key-hmac-secret"  # noqa: S105
CREDENTIALS_ENCRYPTION_KEY = "test-credentials-encryption-key"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
DATABASES["default"]["TEST"] = {"NAME": os.environ.get("TEST_DATABASE_NAME", "test_cloudfreedom")}
# A separate Redis database so tests never touch what `make run` keeps.
# The suite needs a real Redis even when `make run` chose none (REDIS_URL=""): then the
# machine's default one.
TEST_REDIS_URL = os.environ.get(
    "TEST_REDIS_URL", (REDIS_URL or "redis://127.0.0.1:6379/0").rsplit("/", 1)[0] + "/15"
)
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": TEST_REDIS_URL,
        "KEY_PREFIX": "cftest",
    }
}
REDIS_URL = TEST_REDIS_URL
CELERY_BROKER_URL = TEST_REDIS_URL
CELERY_RESULT_BACKEND = TEST_REDIS_URL
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
# Static files without `collectstatic`: plain names, found in the source folders on
# request (autorefresh also skips scanning every app's files for each test client).
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
