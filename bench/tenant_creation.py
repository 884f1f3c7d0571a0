"""How long does creating a tenant take? Median of N `create_tenant` calls (clone mode),
side by side with building a schema by running the tenant migrations (the baseline the
template clone replaces), on the database `make run` uses. Cleans up after itself.

    make bench            # or: python -m bench.tenant_creation --runs 20 --baseline-runs 2
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import uuid

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cloudfreedom.settings.local")
django.setup()

from django.db import connection  # noqa: E402
from django_tenants.utils import schema_exists  # noqa: E402

from apps.core.seed import bootstrap  # noqa: E402
from apps.tenants.models import Tenant  # noqa: E402
from apps.tenants.services import create_tenant  # noqa: E402


def time_clone(runs: int) -> list[float]:
    times, made = [], []
    try:
        for _ in range(runs):
            slug = f"bench-{uuid.uuid4().hex[:10]}"
            start = time.perf_counter()
            made.append(create_tenant(name=slug, slug=slug))
            times.append(time.perf_counter() - start)
    finally:
        for tenant in made:
            tenant.delete(force_drop=True)
    return times


def time_migrate(runs: int) -> list[float]:
    """The baseline: a schema built by replaying every tenant migration."""
    times = []
    for _ in range(runs):
        slug = f"bench-m-{uuid.uuid4().hex[:8]}"
        tenant = Tenant(name=slug, slug=slug, schema_name="t_" + slug.replace("-", "_"))
        tenant.save()
        try:
            start = time.perf_counter()
            with connection.cursor() as cur:
                cur.execute(f'CREATE SCHEMA "{tenant.schema_name}"')
            from django.core.management import call_command

            call_command(
                "migrate_schemas",
                tenant=True,
                schema_name=tenant.schema_name,
                interactive=False,
                verbosity=0,
            )
            times.append(time.perf_counter() - start)
        finally:
            connection.set_schema_to_public()
            tenant.delete(force_drop=True)
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--baseline-runs", type=int, default=1)
    args = parser.parse_args()
    bootstrap()
    assert schema_exists("tenant_template")
    clone = time_clone(args.runs)
    print(
        f"create_tenant (clone of template), {args.runs} runs: "
        f"median {statistics.median(clone):.3f} s, "
        f"min {min(clone):.3f} s, max {max(clone):.3f} s"
    )
    if args.baseline_runs:
        migrate = time_migrate(args.baseline_runs)
        print(
            f"baseline (run tenant migrations), {args.baseline_runs} runs: median "
            f"{statistics.median(migrate):.3f} s"
        )


if __name__ == "__main__":
    main()
