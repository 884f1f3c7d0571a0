"""Incremental Server-Sent Events parser.

Feed it bytes exactly as they come off the socket; it returns the events completed so far
and buffers the rest. Handles LF, CRLF and CR line endings (including a CRLF split across
two reads), multi-line `data:` (joined with LF), comments and `event:` names.

`data` stays `bytes`: every consumer hands it straight to `orjson.loads`, so decoding to
`str` first would only cost time on the hot path.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class SSEEvent:
    event: str  # "" when the event had no `event:` line (OpenAI and Gemini streams)
    data: bytes

    @property
    def text(self) -> str:
        return self.data.decode("utf-8", "replace")


class SSEParser:
    __slots__ = ("_buf", "_data", "_event", "_skip_lf")

    def __init__(self) -> None:
        self._buf = b""  # an incomplete line carried over to the next read
        self._event = ""
        self._data: list[bytes] | None = None
        self._skip_lf = False  # the last read ended in CR: a leading LF now belongs to it

    def feed(self, chunk: bytes) -> list[SSEEvent]:
        if self._skip_lf:
            self._skip_lf = False
            if chunk[:1] == b"\n":
                chunk = chunk[1:]
        if b"\r" in chunk:
            self._skip_lf = chunk[-1:] == b"\r"
            chunk = chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        if self._buf:
            chunk = self._buf + chunk
        lines = chunk.split(b"\n")
        self._buf = lines.pop()
        events: list[SSEEvent] = []
        for line in lines:
            self._line(line, events)
        return events

    def flush(self) -> list[SSEEvent]:
        """End of stream: dispatch a final event that lacked its blank line.

        The SSE spec says to drop it; being lenient costs nothing and rescues servers
        that close the connection right after the last `data:` line.
        """
        events: list[SSEEvent] = []
        if self._buf:
            line, self._buf = self._buf, b""
            self._line(line, events)
        self._line(b"", events)
        return events

    def _line(self, line: bytes, events: list[SSEEvent]) -> None:
        if not line:
            if self._data is not None:
                data = self._data[0] if len(self._data) == 1 else b"\n".join(self._data)
                events.append(SSEEvent(self._event, data))
            self._event = ""
            self._data = None
            return
        if line[0] == 58:  # ":" starts a comment (keep-alives)
            return
        colon = line.find(b":")
        if colon < 0:
            name, value = line, b""
        else:
            name = line[:colon]
            value = line[colon + 1 :]
            if value[:1] == b" ":
                value = value[1:]
        if name == b"data":
            if self._data is None:
                self._data = [value]
            else:
                self._data.append(value)
        elif name == b"event":
            self._event = value.decode("utf-8", "replace")
        # `id:` and `retry:` matter only to reconnecting browsers, never to a proxy.
