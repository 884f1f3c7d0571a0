"""The gateway of this tree against the gateway of an earlier commit, side by side in one run.

    PYTHONPATH=. .venv/bin/python -m bench.compare [REV] [--quick] [--rounds N]

REV (default `HEAD~1`) is checked out as a git worktree under /tmp; each tree gets its own
database (`cloudfreedom_bench_<rev>` / `cloudfreedom_bench`) migrated and seeded by its own
code, its own uvicorn process (uvloop + httptools, one worker) and the same fake OpenAI
upstream. The two gateways take turns under the same load (plain and 10-chunk streams at
concurrency 1 and 10), `--rounds` times each, so drift on a shared machine hits both alike.
Reports the server process's CPU per request (psutil user + system delta / requests) and
requests/s for both, and the change in percent. The budget for a change on the /v1 hot path
is +5% CPU per request.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

from bench.gateway import ENV, MODEL, PY, ROOT, SEED, free_port, run_load, start, wait_port

COUNTS = {1: 300, 10: 1500}
QUICK = {1: 100, 10: 400}


def tree_env(tree: Path, db: str) -> dict[str, str]:
    return {
        **ENV,
        "PYTHONPATH": str(tree),
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{db}",
        "BENCH_DATABASE_NAME": db,
    }


def worktree(rev: str) -> Path:
    sha = subprocess.run(
        ["git", "rev-parse", "--short", rev], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout.strip()
    path = Path("/tmp") / f"cloudfreedom-bench-{sha}"
    if not path.exists():
        subprocess.run(
            ["git", "worktree", "add", "--detach", str(path), sha],
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
    return path


def prepare(tree: Path, db: str, fake_url: str) -> str:
    """Create, migrate and seed `db` with `tree`'s own code; returns the bench key."""
    import psycopg

    with psycopg.connect("host=127.0.0.1 user=postgres dbname=postgres", autocommit=True) as c:
        if not c.execute("SELECT 1 FROM pg_database WHERE datname = %s", (db,)).fetchone():
            c.execute(f'CREATE DATABASE "{db}"')
    env = tree_env(tree, db)
    manage = [PY, str(tree / "manage.py")]
    subprocess.run(
        [*manage, "migrate_schemas", "--shared", "--noinput", "-v", "0"],
        env=env,
        cwd=tree,
        check=True,
    )
    out = subprocess.run(
        [PY, "-c", f"BASE = {fake_url!r}\n" + SEED],
        env=env,
        cwd=tree,
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip().splitlines()[-1]


def start_gateway(tree: Path, db: str, port: int) -> subprocess.Popen:
    cmd = [PY, "-m", "uvicorn", "cloudfreedom.asgi:application", "--host", "127.0.0.1"]
    cmd += ["--port", str(port), "--loop", "uvloop", "--http", "httptools", "--no-access-log"]
    # "auto": the newer tree serves the lifespan, an older one may not.
    cmd += ["--lifespan", "auto", "--log-level", "warning"]
    # Both gateways on the last core, so the scheduler moves neither of them around.
    if shutil.which("taskset") and (os.cpu_count() or 1) > 1:
        cmd = ["taskset", "-c", str((os.cpu_count() or 2) - 1), *cmd]
    return subprocess.Popen(cmd, env=tree_env(tree, db), cwd=tree)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("rev", nargs="?", default="HEAD~1")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--conc", type=int, action="append", help="only these concurrencies")
    parser.add_argument("--requests", type=int, help="requests per sample (all concurrencies)")
    args = parser.parse_args()
    counts = QUICK if args.quick else COUNTS
    if args.conc:
        counts = {c: counts.get(c, 1000) for c in args.conc}
    if args.requests:
        counts = dict.fromkeys(counts, args.requests)
    base_tree = worktree(args.rev)
    trees = {
        "baseline": (base_tree, f"cloudfreedom_bench_{base_tree.name[-7:]}"),
        "this tree": (ROOT, "cloudfreedom_bench"),
    }
    fake, fake_url = start([PY, "-m", "tests.fakes.runner", "--kind", "openai"], ready_line=True)
    import urllib.request

    urllib.request.urlopen(
        urllib.request.Request(
            fake_url.removesuffix("/v1") + "/__fake__/default",
            data=b'{"chunks": 10}',
            method="POST",
        )
    ).read()
    gateways: dict[str, tuple[subprocess.Popen, int, str]] = {}
    try:
        for label, (tree, db) in trees.items():
            key = prepare(tree, db, fake_url)
            port = free_port()
            gateways[label] = (start_gateway(tree, db, port), port, key)
            wait_port(port)
        results: dict[tuple[bool, int, str], list[dict]] = {}
        for stream in (False, True):
            for conc in counts:
                for round_no in range(args.rounds):
                    # ABBA: the tree that goes first alternates, so an order effect (a
                    # warmer upstream, PostgreSQL's state) cancels out.
                    order = list(gateways.items())
                    if round_no % 2:
                        order.reverse()
                    for label, (proc, port, key) in order:
                        url = f"http://127.0.0.1:{port}/v1/chat/completions"
                        run_load(proc.pid, url, key, MODEL, stream, conc, 50)  # warm up
                        result = run_load(proc.pid, url, key, MODEL, stream, conc, counts[conc])
                        if result["errors"]:
                            raise SystemExit(f"{label}: {result['errors']} errors")
                        results.setdefault((stream, conc, label), []).append(result)
        print(f"baseline: {args.rev} ({base_tree.name}); median of {args.rounds} rounds each\n")
        print(
            "| mode | conc | baseline CPU ms/req | this tree CPU ms/req | change | "
            "baseline req/s | this tree req/s |"
        )
        print("|---|---|---|---|---|---|---|")
        for stream in (False, True):
            for conc in counts:
                b = results[(stream, conc, "baseline")]
                n = results[(stream, conc, "this tree")]
                bc = statistics.median(r["cpu_ms_per_req"] for r in b)
                nc = statistics.median(r["cpu_ms_per_req"] for r in n)
                br = statistics.median(r["rps"] for r in b)
                nr = statistics.median(r["rps"] for r in n)
                print(
                    f"| {'stream (10 chunks)' if stream else 'plain'} | {conc} | {bc:.3f} | "
                    f"{nc:.3f} | {100 * (nc - bc) / bc:+.1f}% | {br:.0f} | {nr:.0f} |",
                    flush=True,
                )
    finally:
        for proc, _, _ in gateways.values():
            proc.terminate()
            proc.wait(10)
        fake.terminate()
        fake.wait(10)


if __name__ == "__main__":
    sys.exit(main())
