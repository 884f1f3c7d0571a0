"""Production: every secret must come from the environment; HTTPS assumed."""

import os

from cloudfreedom.settings.base import *  # noqa: F403

DEBUG = False
for _name in ("DJANGO_SECRET_KEY", "API_KEY_HMAC_SECRET", "CREDENTIALS_ENCRYPTION_KEY"):
    if not os.environ.get(_name):
        raise RuntimeError(f"{_name} must be set in production")
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_CONTENT_TYPE_NOSNIFF = True
# Static files: base's hashed, Brotli/gzip-compressed storage in STATIC_ROOT (env
# DJANGO_STATIC_ROOT), filled by `collectstatic` when the image is built, served by
# WhiteNoise with a year of caching. With DEBUG off, a page whose asset is missing from the
# manifest fails loudly rather than linking a name that was never collected.
