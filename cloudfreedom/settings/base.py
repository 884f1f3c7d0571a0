"""Settings shared by every environment. Everything that differs comes from the environment."""

from __future__ import annotations

import importlib.metadata
import os
from decimal import Decimal
from pathlib import Path

import dj_database_url

from cloudfreedom import runtime
from cloudfreedom.secrets import get_secret

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


SECRET_KEY = get_secret("DJANGO_SECRET_KEY")
# API key digests are HMACs with their own secret, so rotating SECRET_KEY (sessions) does
# not invalidate every customer's keys.
API_KEY_HMAC_SECRET = get_secret("API_KEY_HMAC_SECRET")
# Provider credentials stored in the database are encrypted with this key (Fernet).
CREDENTIALS_ENCRYPTION_KEY = get_secret("CREDENTIALS_ENCRYPTION_KEY")

DEBUG = env_bool("DJANGO_DEBUG", False)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ".localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", "")

SHARED_APPS = [
    "django_tenants",
    "apps.tenants",
    "apps.accounts",
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    # Before staticfiles: `runserver` then serves through WhiteNoise too, as uvicorn does.
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.admin",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    # Swagger UI and Redoc served from /static/, not a CDN: the docs work offline.
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "djstripe",
    "apps.catalog",
    "apps.keys",
    "apps.billing",
    "apps.analytics",
    "apps.api",
    "apps.gateway",
    "apps.website",
    "apps.portal",
    "apps.core",
]
TENANT_APPS = [
    "django.contrib.contenttypes",
    "apps.usage",
]
INSTALLED_APPS = SHARED_APPS + [app for app in TENANT_APPS if app not in SHARED_APPS]

TENANT_MODEL = "tenants.Tenant"
TENANT_DOMAIN_MODEL = "tenants.Domain"
PUBLIC_SCHEMA_NAME = "public"
# New tenants are cloned from this schema (kept current by migrate_schemas because it is a
# Tenant row of kind "template") instead of replaying every migration: ~0.2 s, not ~25 s.
TENANT_BASE_SCHEMA = "tenant_template"
TENANT_CREATION_FAKES_MIGRATIONS = True
TENANT_LIMIT_SET_CALLS = True
SHOW_PUBLIC_IF_NO_TENANT_FOUND = True
PUBLIC_SCHEMA_URLCONF = "cloudfreedom.urls_public"
ROOT_URLCONF = "cloudfreedom.urls_tenant"
DATABASE_ROUTERS = ("django_tenants.routers.TenantSyncRouter",)

# WhiteNoise answers /static/ before the tenant lookup: an asset needs no database query
# and is the same on every host. (/v1 never sees this list: see cloudfreedom/asgi.py.)
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "cloudfreedom.staticfiles.WhiteNoiseMiddleware",
    "apps.tenants.middleware.TenantMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

ASGI_APPLICATION = "cloudfreedom.asgi.application"
WSGI_APPLICATION = None

# DATABASE_URL / REDIS_URL from the environment, else from what `make run` chose
# (.data/runtime.env: local or embedded servers), else 127.0.0.1. See cloudfreedom/runtime.py.
_servers = runtime.resolve(os.environ)
DATABASE_URL = _servers["DATABASE_URL"]
_db = dj_database_url.parse(DATABASE_URL)
_db["ENGINE"] = "django_tenants.postgresql_backend"
_db.setdefault("OPTIONS", {})
# A socket directory given as `?host=/dir` (the embedded server's URL) becomes HOST, where
# every connection made outside the ORM (the gateway's pool, /readyz) looks for it too.
if not _db.get("HOST") and "host" in _db["OPTIONS"]:
    _db["HOST"] = _db["OPTIONS"].pop("host")
# Under ASGI persistent connections leak per thread; psycopg's pool is the supported way.
_db["CONN_MAX_AGE"] = 0
_db["OPTIONS"]["pool"] = {
    "min_size": int(os.environ.get("DB_POOL_MIN", "2")),
    "max_size": int(os.environ.get("DB_POOL_MAX", "20")),
    "timeout": 10,
}
DATABASES = {"default": _db}
# dj-stripe's migration history, replayed, cost minutes of CPU per schema; this module
# builds the same tables in one migration (see its docstring). Only for the version it was
# generated from: another dj-stripe falls back to its own history (and a test says so).
if importlib.metadata.version("dj-stripe") == "2.11.0":
    MIGRATION_MODULES = {"djstripe": "cloudfreedom.migrations.djstripe"}

# REDIS_URL="" runs without Redis: a per-process cache and a filesystem Celery broker.
# `make run` chooses that only when no Redis answers and no embedded one starts, and then
# also sets RATE_LIMITER_BACKEND=local; otherwise rate limits fail closed without Redis.
REDIS_URL = _servers["REDIS_URL"]
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "cf",
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# The /v1 rate limiter: "redis" (shared by every process; fails closed when the configured
# Redis is lost) or "local" (this process's memory; `make run` chooses it only when no
# Redis at all can be had: correct for that single web process, never unlimited).
RATE_LIMITER_BACKEND = os.environ.get("RATE_LIMITER_BACKEND", "redis")
if RATE_LIMITER_BACKEND not in ("redis", "local"):
    raise ValueError(
        f"RATE_LIMITER_BACKEND must be 'redis' or 'local', not {RATE_LIMITER_BACKEND!r}"
    )
# The limiter's Redis pool per process: a burst beyond it waits up to the timeout (seconds)
# for a free connection instead of failing.
RATE_LIMITER_REDIS_POOL_SIZE = int(os.environ.get("RATE_LIMITER_REDIS_POOL_SIZE", "100"))
RATE_LIMITER_REDIS_POOL_TIMEOUT = float(os.environ.get("RATE_LIMITER_REDIS_POOL_TIMEOUT", "30"))

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_REDIRECT_URL = "/app/"

# django-allauth: email is the login, and it must be verified.
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "CloudFreedom <noreply@localhost>")
# Prepaid credit (USD) every self-service workspace starts with; 0: none. A free plan for
# signups is chosen in the admin instead (Product.signup_default).
SIGNUP_CREDIT = Decimal(os.environ.get("SIGNUP_CREDIT", "0"))
# --- Accounts (signup, allauth): settings added for issue 9 go below this line.
ACCOUNT_ADAPTER = "apps.accounts.adapter.AccountAdapter"
# Signup also creates the user's workspace (apps/accounts/forms.py; routed by
# apps/accounts/urls.py, whose SignupView turns a failed workspace into a form error).
ACCOUNT_FORMS = {"signup": "apps.accounts.forms.SignupForm"}
# The mailed link opens a page with a Confirm button rather than confirming on GET: mail
# scanners that fetch every link confirm nothing. Confirming in the browser that signed up
# logs the user in (allauth only does so while the signup is pending in that session).
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_EMAIL_CONFIRMATION_EXPIRE_DAYS = 3
# One address per user (it is the login); a new one replaces it once verified.
ACCOUNT_CHANGE_EMAIL = True
# Mail the user when their password or email address changes: it may not have been them.
ACCOUNT_EMAIL_NOTIFICATIONS = True
# Changing the email address (the login) asks for the password again (then not for five
# minutes): a borrowed, signed-in browser cannot take the account over.
ACCOUNT_REAUTHENTICATION_REQUIRED = True
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[CloudFreedom] "
# A taken email is a clear form error at signup (issue 9), so signup reveals whether an
# address has an account; hiding it on the other forms would protect nothing. The rate
# limits below bound how fast anyone can ask.
ACCOUNT_PREVENT_ENUMERATION = False
# The sign-in form asks "Remember me"; unticked, the session ends with the browser.
ACCOUNT_SESSION_REMEMBER = None
# Counted in the cache (Redis). "5/5m/key": five per email address per five minutes.
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip",
    "login_failed": "5/5m/key,20/m/ip",
    "signup": "20/m/ip",
    "reset_password": "20/m/ip,3/5m/key",
    "reset_password_from_key": "20/m/ip",
    "change_password": "5/m/user",
    "manage_email": "10/m/user",
    # A new verification mail for the same address at most every three minutes.
    "confirm_email": "1/3m/key",
    "reauthenticate": "10/m/user",
}
# Per-IP limits use REMOTE_ADDR, which uvicorn already takes from X-Forwarded-For when the
# proxy's address is in its FORWARDED_ALLOW_IPS. Set this only when the app instead sees
# the proxy's address: the number of proxies in front of it.
ALLAUTH_TRUSTED_PROXY_COUNT = int(os.environ.get("ALLAUTH_TRUSTED_PROXY_COUNT", "0"))
# Mail over SMTP when EMAIL_HOST is set (production); without it, to the console.
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
if os.environ.get("EMAIL_HOST") and not os.environ.get("EMAIL_BACKEND"):
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)  # implicit TLS, usually port 465
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", not EMAIL_USE_SSL)  # STARTTLS, usually 587
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "465" if EMAIL_USE_SSL else "587"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", "10"))

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 100,
    "COERCE_DECIMAL_TO_STRING": True,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "CloudFreedom API",
    "DESCRIPTION": "Billing and management API of the CloudFreedom AI router.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The API lives on the public site; the default would read the tenant URLconf.
    "SERVE_URLCONF": "cloudfreedom.urls_public",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # The "valid" badge would send the schema to validator.swagger.io from every visit.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
}

# Celery: Redis is broker and result store; tasks carry the tenant schema in a header.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", REDIS_URL or "filesystem://")
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND", REDIS_URL or None)
if CELERY_BROKER_URL == "filesystem://":
    # Everything the filesystem broker writes stays under .data (kombu would otherwise
    # put its exchange table in ./control).
    _celery_dir = runtime.DATA_DIR / "celery"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_celery_dir / "in"),
        "data_folder_out": str(_celery_dir / "in"),
        "data_folder_processed": str(_celery_dir / "processed"),
        "control_folder": str(_celery_dir / "control"),
    }
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = "UTC"
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)

# dj-stripe. The API version is pinned explicitly: Stripe changes behaviour per version.
STRIPE_API_VERSION = "2026-08-26.dahlia"  # the version stripe 15.6.2 is typed for
STRIPE_LIVE_MODE = env_bool("STRIPE_LIVE_MODE", False)
STRIPE_TEST_SECRET_KEY = os.environ.get("STRIPE_TEST_SECRET_KEY", "")
STRIPE_LIVE_SECRET_KEY = os.environ.get("STRIPE_LIVE_SECRET_KEY", "")
DJSTRIPE_FOREIGN_KEY_TO_FIELD = "id"
DJSTRIPE_WEBHOOK_VALIDATION = "verify_signature"
DJSTRIPE_USE_NATIVE_JSONFIELD = True
# Stripe for billing (apps/billing/stripe_api.py makes every call). Secrets come only from
# the environment. STRIPE_API_BASE points the `stripe` library (and so dj-stripe) at another
# server, e.g. a local fake; unset means Stripe itself.
STRIPE_API_BASE = os.environ.get("STRIPE_API_BASE", "")
STRIPE_WEBHOOK_SECRET = os.environ.get("STRIPE_WEBHOOK_SECRET", "")  # whsec_… of the endpoint
STRIPE_WEBHOOK_UUID = os.environ.get("STRIPE_WEBHOOK_UUID", "")  # /stripe/webhook/<uuid>/
# The Billing Meter that overage is reported to (1 unit = 1 micro-USD).
STRIPE_OVERAGE_METER_EVENT = os.environ.get("STRIPE_OVERAGE_METER_EVENT", "cloudfreedom_overage")
# Prepaid credit bought through Checkout, in USD (inclusive bounds).
BILLING_TOPUP_MIN = Decimal(os.environ.get("BILLING_TOPUP_MIN", "5"))
BILLING_TOPUP_MAX = Decimal(os.environ.get("BILLING_TOPUP_MAX", "10000"))

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT", BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
# `collectstatic` (run by `make run` and the Docker build) writes hashed names and gzip and
# Brotli copies; WhiteNoise serves those with a year of caching. With DEBUG on, Django links
# the plain names and WhiteNoise reads the source folders, so edits show without collecting.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "cloudfreedom.staticfiles.CompressedManifestStorage"},
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The gateway (/v1) limits.
GATEWAY_MAX_BODY_BYTES = int(os.environ.get("GATEWAY_MAX_BODY_BYTES", str(8 * 1024 * 1024)))
DATA_UPLOAD_MAX_MEMORY_SIZE = GATEWAY_MAX_BODY_BYTES
# Honour HTTP(S)_PROXY / NO_PROXY / .netrc for upstream calls (deployments behind an
# egress proxy). Off by default: it costs two thread hops per upstream request.
GATEWAY_UPSTREAM_TRUST_ENV = env_bool("GATEWAY_UPSTREAM_TRUST_ENV", False)
# Hot-path pools per process. A request waits up to the timeout (seconds) for a free
# connection when all are busy (a burst queues, it does not fail), then gets a 5xx. The
# waits are FIFO, so the last of a burst of N waits about N / (requests per second): 1,000
# at once took 20 s through one process on a loaded 2-core test machine (tests/gateway/
# test_burst.py), hence 30 s. An LLM request's own deadline is minutes.
GATEWAY_UPSTREAM_CONNECTIONS = int(os.environ.get("GATEWAY_UPSTREAM_CONNECTIONS", "1000"))
GATEWAY_UPSTREAM_POOL_TIMEOUT = float(os.environ.get("GATEWAY_UPSTREAM_POOL_TIMEOUT", "30"))
GATEWAY_DB_POOL_MAX = int(os.environ.get("GATEWAY_DB_POOL_MAX", "20"))
GATEWAY_DB_POOL_TIMEOUT = float(os.environ.get("GATEWAY_DB_POOL_TIMEOUT", "30"))
# Keys and the catalog are cached per process for this long; revocation and suspension
# still take effect on the next request (re-checked in the reservation round trip).
GATEWAY_KEY_CACHE_TTL = float(os.environ.get("GATEWAY_KEY_CACHE_TTL", "5"))
GATEWAY_CATALOG_TTL = float(os.environ.get("GATEWAY_CATALOG_TTL", "5"))
GATEWAY_RETRY_BACKOFF = float(os.environ.get("GATEWAY_RETRY_BACKOFF", "0.25"))
GATEWAY_RETRY_MAX_WAIT = float(os.environ.get("GATEWAY_RETRY_MAX_WAIT", "5"))
# All upstream attempts of one request (retries and fallbacks) share this many seconds.
GATEWAY_REQUEST_DEADLINE = float(os.environ.get("GATEWAY_REQUEST_DEADLINE", "600"))
# A reservation whose request died is released after this many seconds.
BILLING_RESERVATION_TIMEOUT = int(os.environ.get("BILLING_RESERVATION_TIMEOUT", "900"))
# On SIGTERM, seconds the lifespan's shutdown waits for requests still ending and for their
# usage records and settlements (after uvicorn's --timeout-graceful-shutdown).
GATEWAY_SHUTDOWN_TIMEOUT = float(os.environ.get("GATEWAY_SHUTDOWN_TIMEOUT", "30"))
# Finished reservations are deleted after this many days (the ledger keeps the history).
BILLING_RESERVATION_RETENTION_DAYS = int(os.environ.get("BILLING_RESERVATION_RETENTION_DAYS", "7"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # The stripe library logs every request and error body at INFO, and Stripe's error
        # bodies quote the end of a rejected key; apps/billing/stripe_api.py logs failures.
        "stripe": {"level": "WARNING"},
    },
}
TENANT_DOMAIN_SUFFIX = os.environ.get("TENANT_DOMAIN_SUFFIX", "localhost")
