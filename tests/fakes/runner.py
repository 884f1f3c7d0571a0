"""Run a fake upstream on 127.0.0.1 (ephemeral port by default).

In tests:

    with FakeUpstream("openai") as fake:
        fake.script(status=503)
        target = UpstreamTarget("openai", "fake", fake.base_url, "gpt-4o", api_key="sk-test")
        ...
        assert fake.requests[0].json["stream_options"] == {"include_usage": True}

As a process (the benchmark): `python -m tests.fakes.runner --kind openai --port 0`
prints the base URL on one line and serves until SIGINT/SIGTERM. `base_url` is what an
adapter expects: `http://127.0.0.1:PORT/v1` for openai, the host root for the others.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
import threading
from collections.abc import Callable
from types import TracebackType
from typing import Any

from aiohttp import web

from tests.fakes import anthropic_server, gemini_server, openai_server
from tests.fakes.control import FakeControl, RecordedRequest, Scenario

APPS: dict[str, Callable[[FakeControl], web.Application]] = {
    "openai": openai_server.create_app,
    "anthropic": anthropic_server.create_app,
    "gemini": gemini_server.create_app,
}
BASE_PATHS = {"openai": "/v1", "anthropic": "", "gemini": ""}


class FakeUpstream:
    """A fake upstream served from a background thread with its own event loop."""

    def __init__(
        self,
        kind: str,
        *,
        default: Scenario | None = None,
        record: bool = True,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        if kind not in APPS:
            raise ValueError(f"unknown fake kind {kind!r}; choose from {sorted(APPS)}")
        self.kind = kind
        self.control = FakeControl(default=default or Scenario(), record=record)
        self.host = host
        self.port = port
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    # -- lifecycle -----------------------------------------------------------------

    def start(self) -> FakeUpstream:
        self._thread = threading.Thread(target=self._serve, name=f"fake-{self.kind}", daemon=True)
        self._thread.start()
        self._ready.wait(10)
        if self._error is not None:
            raise RuntimeError(f"fake {self.kind} failed to start") from self._error
        return self

    def _serve(self) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)  # this thread's own loop
        self._loop = loop
        try:
            self._runner, self.port = loop.run_until_complete(
                _start(APPS[self.kind](self.control), self.host, self.port)
            )
        except BaseException as exc:
            self._error = exc
            self._ready.set()
            loop.close()
            return
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(self._runner.cleanup())
            # Handlers still sleeping in a scripted delay would be destroyed pending.
            pending = asyncio.all_tasks(loop)
            for task in pending:
                task.cancel()
            if pending:
                loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.close()

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
        self._thread = None

    def __enter__(self) -> FakeUpstream:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- use -------------------------------------------------------------------------

    @property
    def root_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        return self.root_url + BASE_PATHS[self.kind]

    @property
    def requests(self) -> list[RecordedRequest]:
        return list(self.control.requests)

    def script(self, *scenarios: Scenario | dict[str, Any], **fields: Any) -> None:
        self.control.script(*scenarios, **fields)

    def set_default(self, scenario: Scenario | None = None, **fields: Any) -> None:
        self.control.set_default(scenario, **fields)

    def reset(self) -> None:
        self.control.reset()


async def _start(app: web.Application, host: str, port: int) -> tuple[web.AppRunner, int]:
    # No access log and a short shutdown: the fakes must be cheap and stop promptly.
    # handler_cancellation: like a real upstream, stop generating when the client leaves.
    runner = web.AppRunner(
        app,
        access_log=None,
        handle_signals=False,
        shutdown_timeout=0.5,
        handler_cancellation=True,
    )
    await runner.setup()
    site = web.TCPSite(runner, host, port, backlog=1024)
    await site.start()
    server = site._server  # aiohttp exposes the bound port only here
    bound = server.sockets[0].getsockname()[1] if server and server.sockets else port
    return runner, bound


async def _serve_forever(kind: str, host: str, port: int, record: bool) -> None:
    control = FakeControl(record=record)
    runner, bound = await _start(APPS[kind](control), host, port)
    print(f"http://{host}:{bound}{BASE_PATHS[kind]}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await runner.cleanup()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Serve a fake LLM upstream.")
    parser.add_argument("--kind", choices=sorted(APPS), default="openai")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument(
        "--record", action="store_true", help="keep received requests (GET /__fake__/requests)"
    )
    args = parser.parse_args(argv)
    try:
        import uvloop  # optional: a faster loop for benchmark runs
    except ImportError:
        asyncio.run(_serve_forever(args.kind, args.host, args.port, args.record))
    else:
        uvloop.run(_serve_forever(args.kind, args.host, args.port, args.record))
    return 0


if __name__ == "__main__":
    sys.exit(main())
