"""Fire N concurrent requests at a URL and print the outcomes as JSON (a test's client).

Run as a separate process (`python -m tests.support.burst URL N < request.json`) so the
client's own CPU does not compete with an in-process server for the GIL. The request file
holds {"headers": {...}, "body": {...}}. Output: {"elapsed": s, "outcomes": {"200": n,
"503 <code>": n, ...}}.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections import Counter
from typing import Any

import aiohttp


async def burst(
    url: str, n: int, headers: dict[str, str], body: Any, deadline: float
) -> Counter[str]:
    connector = aiohttp.TCPConnector(limit=0)  # truly concurrent: one connection each
    timeout = aiohttp.ClientTimeout(total=deadline)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:

        async def one() -> str:
            try:
                async with session.post(url, json=body, headers=headers) as resp:
                    payload = await resp.read()
                    if resp.status == 200:
                        return "200"
                    try:
                        code = json.loads(payload)["error"]["code"]
                    except (ValueError, KeyError, TypeError):
                        code = payload[:80].decode(errors="replace")
                    return f"{resp.status} {code}"
            except (aiohttp.ClientError, TimeoutError) as exc:
                return f"client {type(exc).__name__}"

        return Counter(await asyncio.gather(*(one() for _ in range(n))))


def main() -> None:
    url, n, deadline = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    request = json.load(sys.stdin)
    started = time.monotonic()
    outcomes = asyncio.run(burst(url, n, request["headers"], request["body"], deadline))
    print(json.dumps({"elapsed": time.monotonic() - started, "outcomes": dict(outcomes)}))


if __name__ == "__main__":
    main()
