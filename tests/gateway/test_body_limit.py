"""The body limit holds at the ASGI entry, before authentication and before buffering:
declared lengths, chunked bodies (no length) and lengths that lie are all counted."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest

from cloudfreedom.asgi import application
from tests.support.live import LiveGateway, World, auth, user_message

LIMIT = 1500


@pytest.fixture
def small_limit(settings: Any) -> None:
    # The live server runs in this process and reads the setting per request.
    settings.GATEWAY_MAX_BODY_BYTES = LIMIT


def _chunk(size: int) -> bytes:
    return f"{size:x}\r\n".encode() + b"a" * size + b"\r\n"


def _exchange(gateway: LiveGateway, parts: list[bytes]) -> tuple[bytes, float]:
    """Send `parts` on one connection (never ending a chunked body), read the answer;
    returns it and the seconds it took after the last part was sent."""
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=5) as sock:
        for part in parts:
            sock.sendall(part)
            time.sleep(0.01)
        sent = time.monotonic()
        answer = b""
        while b"\r\n0\r\n\r\n" not in answer:
            data = sock.recv(65536)
            if not data:
                break
            answer += data
        return answer, time.monotonic() - sent


def _json_of(answer: bytes) -> Any:
    _, _, body = answer.partition(b"\r\n\r\n")
    size, _, rest = body.partition(b"\r\n")  # one chunk of a chunked body
    return orjson.loads(rest[: int(size, 16)])


def _head(path: str) -> bytes:
    return f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n".encode()


def test_a_declared_length_over_the_limit_is_refused_before_the_body_or_the_key(
    gateway: LiveGateway, small_limit: None
) -> None:
    # Headers only: the body is never sent, and there is no key at all.
    answer, waited = _exchange(
        gateway, [_head("/v1/chat/completions") + b"Content-Length: 100000000\r\n\r\n"]
    )
    assert answer.startswith(b"HTTP/1.1 413")
    assert waited < 2
    error = _json_of(answer)["error"]
    assert error["code"] == "request_too_large" and error["type"] == "invalid_request_error"
    assert b"connection: close" in answer.lower()


def test_a_chunked_body_is_counted_as_it_arrives(gateway: LiveGateway, small_limit: None) -> None:
    # Two chunks pass the limit; the body never ends, and 413 comes anyway (nothing waits
    # for the rest, nothing buffers it), before any key is looked at.
    answer, waited = _exchange(
        gateway,
        [
            _head("/v1/chat/completions") + b"Transfer-Encoding: chunked\r\n\r\n",
            _chunk(1000),
            _chunk(1000),
        ],
    )
    assert answer.startswith(b"HTTP/1.1 413")
    assert waited < 2
    assert _json_of(answer)["error"]["code"] == "request_too_large"


def test_messages_answers_in_anthropic_shape(gateway: LiveGateway, small_limit: None) -> None:
    answer, _ = _exchange(
        gateway,
        [_head("/v1/messages") + b"Transfer-Encoding: chunked\r\n\r\n", _chunk(1000), _chunk(1000)],
    )
    assert answer.startswith(b"HTTP/1.1 413")
    body = _json_of(answer)
    assert body["type"] == "error" and body["error"]["type"] == "request_too_large"


def _stream(body: bytes, piece: int = 500) -> Iterator[bytes]:
    for start in range(0, len(body), piece):
        yield body[start : start + piece]


def test_streamed_bodies_under_and_over_the_limit(
    gateway: LiveGateway, world: World, small_limit: None
) -> None:
    payload = {"model": world.models["gpt"], "messages": user_message("hi")}
    small = orjson.dumps(payload)
    r = httpx.post(
        gateway.url + "/v1/chat/completions",
        content=_stream(small, 20),  # chunked, no content-length: reassembled
        headers={**auth(world.secret), "Content-Type": "application/json"},
    )
    assert r.status_code == 200, r.text
    big = orjson.dumps({**payload, "messages": user_message("x" * 4000)})
    r = httpx.post(
        gateway.url + "/v1/chat/completions",
        content=_stream(big),
        headers={**auth(world.secret), "Content-Type": "application/json"},
    )
    assert r.status_code == 413
    assert r.json()["error"]["code"] == "request_too_large"


def test_a_length_that_lies_is_not_trusted(small_limit: None) -> None:
    """At the ASGI entry (a proxy in front may pass what the HTTP parser would refuse):
    a body that declares 10 bytes and sends 3,000 is refused when the bytes pass the
    limit, and nothing after the entry ever runs."""
    messages = [
        {"type": "http.request", "body": b"a" * 1000, "more_body": True},
        {"type": "http.request", "body": b"a" * 1000, "more_body": True},
        {"type": "http.request", "body": b"a" * 1000, "more_body": False},
    ]
    received: list[dict[str, Any]] = []
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        message = messages[len(received)]
        received.append(message)
        return message

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/v1/chat/completions",
        "raw_path": b"/v1/chat/completions",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"content-length", b"10"), (b"content-type", b"application/json")],
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 8000),
    }
    asyncio.run(application(scope, receive, send))
    assert sent[0]["type"] == "http.response.start" and sent[0]["status"] == 413
    assert len(received) == 2  # stopped reading at the byte that passed the limit
    body = b"".join(m.get("body", b"") for m in sent[1:])
    assert orjson.loads(body)["error"]["code"] == "request_too_large"
