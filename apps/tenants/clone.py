"""Cloning the template schema into a new tenant's schema, without re-installing the clone
functions every time.

django-tenants' `CloneSchema.clone_schema` runs `CREATE OR REPLACE FUNCTION` for its four
PL/pgSQL functions (about 4,500 lines) before every clone, then `migrate_schemas --fake`
for the new schema. Re-creating the functions serialises concurrent signups on the
function's row until commit, makes each backend compile them again, and a long-lived
connection that creates many tenants (the test suite's) grows by hundreds of megabytes and
slows down. Here they are installed once per database, tagged with a digest of their
source (a new django-tenants version installs its own), and every clone only calls them.

The fake migrate is not needed: the clone copies the template's `django_migrations` rows
with its tables, so the new schema records exactly the migrations it has (the fake would
also mark as applied any migration the template has not run yet).
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection
from django_tenants.clone import CLONE_SCHEMA_FUNCTION
from django_tenants.utils import schema_exists

SIGNATURE = "public.clone_schema(text, text, public.cloneparms[])"
# Any 64-bit number unique to this purpose: concurrent first installs wait for each other.
INSTALL_LOCK = 0x636C6F6E65  # "clone"


def _source() -> str:
    db_user = settings.DATABASES["default"].get("USER") or "postgres"
    return CLONE_SCHEMA_FUNCTION.format(db_user=db_user)


def _tag() -> str:
    return "django-tenants clone_schema " + hashlib.sha256(_source().encode()).hexdigest()[:16]


def _installed_tag() -> str | None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regtype('public.cloneparms') IS NOT NULL")
        if not cursor.fetchone()[0]:
            return None
        cursor.execute("SELECT obj_description(to_regprocedure(%s), 'pg_proc')", [SIGNATURE])
        row = cursor.fetchone()
    return row[0] if row else None


def ensure_clone_functions() -> bool:
    """Install (or update) the clone functions in the public schema unless the current
    version is there. True when it installed them. Safe inside a transaction."""
    tag = _tag()
    if _installed_tag() == tag:
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [INSTALL_LOCK])
        if _installed_tag() == tag:  # another process installed it while we waited
            return False
        cursor.execute(_source())
        cursor.execute(f"COMMENT ON FUNCTION {SIGNATURE} IS %s", [tag])
    return True


def clone_schema(base_schema: str, new_schema: str) -> None:
    """Copy `base_schema` (tables, sequences, functions, data) into `new_schema`."""
    connection.set_schema_to_public()
    ensure_clone_functions()
    # A name differing only in case would leave two tenants on one schema.
    if schema_exists(new_schema, case_sensitive=False):
        raise ValidationError("New schema name already exists")
    with connection.cursor() as cursor:
        cursor.execute("SELECT public.clone_schema(%s, %s, %s)", [base_schema, new_schema, "DATA"])
