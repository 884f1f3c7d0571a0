"""Gateway overhead benchmark: the gateway in front of a fake OpenAI, against the fake alone.

    PYTHONPATH=. .venv/bin/python -m bench.gateway [--quick] [--budget-overhead]

`--budget-overhead` instead runs the gateway with and without its budget and rate-limit
path (bench/gateway_baseline.py) side by side and reports the CPU that path adds.

Starts, each as its own process: the fake OpenAI upstream (tests/fakes), the gateway
(one uvicorn process, uvloop + httptools, test-like settings on the `cloudfreedom_bench`
database, which it creates and seeds on first use), and an aiohttp load generator (so
its CPU is not counted). Key auth, budget reservation and usage recording are all on.
Reports requests/s, latency p50/p99, CPU time per request of the server process
(psutil cpu_times delta / requests) and peak RSS, plain and streamed (10 chunks), at
concurrency 1, 10 and 50, on loopback only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
BENCH_DB = os.environ.get("BENCH_DATABASE_NAME", "cloudfreedom_bench")
ENV = {
    **os.environ,
    "PYTHONPATH": str(ROOT),
    "DJANGO_SETTINGS_MODULE": "cloudfreedom.settings.test",
    "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{BENCH_DB}",
    "LOG_LEVEL": "WARNING",
}
MODEL = "bench-gpt"
CONCURRENCY = (1, 10, 50)
REQUESTS = {1: 300, 10: 1500, 50: 3000}
QUICK = {1: 100, 10: 300, 50: 600}


# -- load generator (runs as its own process) ----------------------------------------------


async def _load(url: str, key: str, model: str, stream: bool, concurrency: int, total: int) -> dict:
    import aiohttp

    body = {"model": model, "messages": [{"role": "user", "content": "Hello, benchmark!"}]}
    if stream:
        body["stream"] = True
    payload = json.dumps(body).encode()
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    latencies: list[float] = []
    errors = 0
    remaining = total
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker() -> None:
            nonlocal remaining, errors
            while remaining > 0:
                remaining -= 1
                started = time.perf_counter()
                async with session.post(url, data=payload, headers=headers) as resp:
                    await resp.read()
                    if resp.status != 200:
                        errors += 1
                latencies.append(time.perf_counter() - started)

        # Warm up connections and caches outside the measured window.
        await asyncio.gather(
            *[worker_once(session, url, payload, headers) for _ in range(concurrency)]
        )
        print("READY", flush=True)
        sys.stdin.readline()
        started = time.perf_counter()
        await asyncio.gather(*[worker() for _ in range(concurrency)])
        elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "requests": len(latencies),
        "errors": errors,
        "rps": len(latencies) / elapsed,
        "p50_ms": latencies[len(latencies) // 2] * 1000,
        "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
    }


async def worker_once(session: Any, url: str, payload: bytes, headers: dict[str, str]) -> None:
    async with session.post(url, data=payload, headers=headers) as resp:
        await resp.read()


def loadgen_main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url")
    parser.add_argument("--key")
    parser.add_argument("--model")
    parser.add_argument("--stream", action="store_true")
    parser.add_argument("--concurrency", type=int)
    parser.add_argument("--requests", type=int)
    a = parser.parse_args(argv)
    import uvloop

    result = uvloop.run(_load(a.url, a.key, a.model, a.stream, a.concurrency, a.requests))
    print(json.dumps(result), flush=True)


# -- orchestration ----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ensure_database() -> None:
    import psycopg

    with psycopg.connect("host=127.0.0.1 user=postgres dbname=postgres", autocommit=True) as c:
        exists = c.execute("SELECT 1 FROM pg_database WHERE datname = %s", (BENCH_DB,)).fetchone()
        if not exists:
            c.execute(f'CREATE DATABASE "{BENCH_DB}"')
    manage = [PY, str(ROOT / "manage.py")]
    subprocess.run(
        [*manage, "migrate_schemas", "--shared", "--noinput", "-v", "0"], env=ENV, check=True
    )


SEED = """
import django; django.setup()
from decimal import Decimal
from apps.core.seed import bootstrap
from apps.catalog.models import Provider, ModelRoute, RouteTarget, ModelPrice, Product
from apps.tenants.models import Tenant
from apps.tenants.services import create_tenant
from apps.keys.services import create_api_key
bootstrap()
p, _ = Provider.objects.update_or_create(
    name="bench-openai", defaults={"kind": "openai", "base_url": BASE})
p.set_api_key("sk-bench"); p.save()
r, made = ModelRoute.objects.get_or_create(public_name="bench-gpt", defaults={"retries": 0})
if made:
    RouteTarget.objects.create(route=r, provider=p, upstream_model="gpt-4o")
    ModelPrice.objects.create(route=r, input_per_mtok=Decimal("1"), output_per_mtok=Decimal("2"),
        cached_input_per_mtok=Decimal("0.5"), cache_write_per_mtok=Decimal("1.25"))
prod, _ = Product.objects.update_or_create(
    slug="bench", defaults={"name": "Bench", "monthly_budget": Decimal("1000000"),
    "rpm_limit": 10_000_000, "tpm_limit": 2_000_000_000})
prod.allowed_models.add(r)
t = Tenant.objects.filter(slug="bench").first()
t = t or create_tenant(name="Bench", slug="bench", product=prod)
print(create_api_key(tenant=t, name="bench").secret)
"""


def seed(base_url: str) -> str:
    out = subprocess.run(
        [PY, "-c", f"BASE = {base_url!r}\n" + SEED],
        env=ENV,
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip().splitlines()[-1]


def start(cmd: list[str], ready_line: bool = False) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(cmd, env=ENV, stdout=subprocess.PIPE, text=True, cwd=ROOT)
    first = proc.stdout.readline().strip() if ready_line and proc.stdout else ""
    return proc, first


def wait_port(port: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


def run_load(
    server_pid: int, url: str, key: str, model: str, stream: bool, conc: int, n: int
) -> dict:
    import psutil

    server = psutil.Process(server_pid)
    cmd = [PY, "-m", "bench.gateway", "loadgen", "--url", url, "--key", key, "--model", model]
    cmd += ["--concurrency", str(conc), "--requests", str(n)] + (["--stream"] if stream else [])
    gen = subprocess.Popen(cmd, env=ENV, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert gen.stdout and gen.stdin
    line = gen.stdout.readline().strip()
    if line != "READY":
        raise RuntimeError(f"load generator failed: {line}")
    before = server.cpu_times()
    gen.stdin.write("go\n")
    gen.stdin.flush()
    result = json.loads(gen.stdout.readline())
    after = server.cpu_times()
    gen.wait()
    cpu = (after.user - before.user) + (after.system - before.system)
    result["cpu_ms_per_req"] = cpu * 1000 / max(1, result["requests"])
    result["rss_mb"] = server.memory_info().rss / 2**20
    return result


def start_gateway(module: str, port: int) -> subprocess.Popen:
    cmd = [PY, "-m", "uvicorn", f"{module}:application", "--host", "127.0.0.1"]
    cmd += ["--port", str(port), "--loop", "uvloop", "--http", "httptools", "--no-access-log"]
    cmd += ["--lifespan", "off", "--log-level", "warning"]
    proc, _ = start(cmd)
    return proc


def budget_overhead(counts: dict[int, int]) -> None:
    """The gateway with and without its budget + rate-limit path, side by side."""
    fake, fake_url = start([PY, "-m", "tests.fakes.runner", "--kind", "openai"], ready_line=True)
    rows = []
    try:
        key = seed(fake_url)
        for stream in (False, True):
            for conc in (1, 10):
                result = {}
                for label, module in (
                    ("without", "bench.gateway_baseline"),
                    ("with", "cloudfreedom.asgi"),
                ):
                    port = free_port()
                    gateway = start_gateway(module, port)
                    try:
                        wait_port(port)
                        url = f"http://127.0.0.1:{port}/v1/chat/completions"
                        run_load(gateway.pid, url, key, MODEL, stream, conc, 100)  # warm up
                        result[label] = run_load(
                            gateway.pid, url, key, MODEL, stream, conc, counts[conc]
                        )
                    finally:
                        gateway.terminate()
                        gateway.wait(10)
                rows.append((stream, conc, result["without"], result["with"]))
                w, b = result["with"], result["without"]
                print(
                    f"{'stream' if stream else 'plain ':6} c={conc:<3} without budgets "
                    f"{b['cpu_ms_per_req']:.3f} ms CPU, {b['rps']:.0f} rps | with budgets + rate "
                    f"limits {w['cpu_ms_per_req']:.3f} ms CPU, {w['rps']:.0f} rps | added "
                    f"{w['cpu_ms_per_req'] - b['cpu_ms_per_req']:+.3f} ms",
                    flush=True,
                )
    finally:
        fake.terminate()
        fake.wait(10)
    print(
        "| mode | conc | CPU ms/req without | CPU ms/req with | added ms/req | req/s without "
        "| req/s with |"
    )
    print("|---|---|---|---|---|---|---|")
    for stream, conc, b, w in rows:
        print(
            f"| {'stream (10 chunks)' if stream else 'plain'} | {conc} | "
            f"{b['cpu_ms_per_req']:.3f} | {w['cpu_ms_per_req']:.3f} | "
            f"{w['cpu_ms_per_req'] - b['cpu_ms_per_req']:+.3f} | {b['rps']:.0f} | {w['rps']:.0f} |"
        )


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "loadgen":
        loadgen_main(sys.argv[2:])
        return
    quick = "--quick" in sys.argv
    counts = QUICK if quick else REQUESTS
    ensure_database()
    if "--budget-overhead" in sys.argv:
        budget_overhead(counts)
        return
    fake, fake_url = start([PY, "-m", "tests.fakes.runner", "--kind", "openai"], ready_line=True)
    port = free_port()
    gateway = None
    try:
        key = seed(fake_url)
        gateway = start_gateway("cloudfreedom.asgi", port)
        wait_port(port)
        import urllib.request

        # Streams of 10 content chunks from the fake.
        req = urllib.request.Request(
            fake_url.removesuffix("/v1") + "/__fake__/default",
            data=b'{"chunks": 10}',
            method="POST",
        )
        urllib.request.urlopen(req).read()
        rows = []
        peak_rss = 0.0
        for stream in (False, True):
            for conc in CONCURRENCY:
                direct = run_load(
                    fake.pid,
                    fake_url + "/chat/completions",
                    "sk-x",
                    "gpt-4o",
                    stream,
                    conc,
                    counts[conc],
                )
                via = run_load(
                    gateway.pid,
                    f"http://127.0.0.1:{port}/v1/chat/completions",
                    key,
                    MODEL,
                    stream,
                    conc,
                    counts[conc],
                )
                peak_rss = max(peak_rss, via["rss_mb"])
                rows.append((stream, conc, direct, via))
                print(
                    f"{'stream' if stream else 'plain ':6} c={conc:<3} "
                    f"direct {direct['rps']:7.0f} rps p50 {direct['p50_ms']:6.2f} "
                    f"p99 {direct['p99_ms']:6.2f} | gateway {via['rps']:7.0f} rps "
                    f"p50 {via['p50_ms']:6.2f} p99 {via['p99_ms']:6.2f} "
                    f"cpu {via['cpu_ms_per_req']:.3f} ms/req errors {via['errors']}",
                    flush=True,
                )
        print(f"gateway peak RSS {peak_rss:.0f} MB")
        print(markdown(rows, peak_rss))
    finally:
        for proc in (gateway, fake):
            if proc is not None:
                proc.terminate()
                proc.wait(10)


def markdown(rows: list[tuple[bool, int, dict, dict]], peak_rss: float) -> str:
    lines = [
        "| mode | conc | direct req/s | direct p50 / p99 ms | gateway req/s | gateway p50 / p99 ms "
        "| gateway CPU ms/req | fake CPU ms/req (direct) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for stream, conc, d, g in rows:
        lines.append(
            f"| {'stream (10 chunks)' if stream else 'plain'} | {conc} | {d['rps']:.0f} | "
            f"{d['p50_ms']:.2f} / {d['p99_ms']:.2f} | {g['rps']:.0f} | {g['p50_ms']:.2f} / "
            f"{g['p99_ms']:.2f} | {g['cpu_ms_per_req']:.3f} | {d['cpu_ms_per_req']:.3f} |"
        )
    lines.append(f"\nGateway peak RSS: {peak_rss:.0f} MB.")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
