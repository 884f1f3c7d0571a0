from __future__ import annotations

from apps.gateway.providers.sse import SSEEvent, SSEParser


def parse_all(*reads: bytes) -> list[SSEEvent]:
    parser = SSEParser()
    events: list[SSEEvent] = []
    for data in reads:
        events.extend(parser.feed(data))
    events.extend(parser.flush())
    return events


def test_it_parses_lf_crlf_and_cr_line_endings() -> None:
    for sep in (b"\n", b"\r\n", b"\r"):
        stream = b"data: one" + sep + sep + b"event: ping" + sep + b"data: two" + sep + sep
        assert parse_all(stream) == [SSEEvent("", b"one"), SSEEvent("ping", b"two")]


def test_it_gives_the_same_events_for_every_split_point() -> None:
    stream = (
        b': keep-alive\r\n\r\nevent: message_start\r\ndata: {"a":1}\r\n\r\n'
        b"data: x\rdata: y\r\rdata: \xc3\xa9t\xc3\xa9\n\ndata: [DONE]\n\n"
    )
    expected = parse_all(stream)
    assert expected == [
        SSEEvent("message_start", b'{"a":1}'),
        SSEEvent("", b"x\ny"),
        SSEEvent("", "été".encode()),
        SSEEvent("", b"[DONE]"),
    ]
    for i in range(len(stream) + 1):
        assert parse_all(stream[:i], stream[i:]) == expected, i
    assert parse_all(*[stream[i : i + 1] for i in range(len(stream))]) == expected


def test_it_joins_multi_line_data_with_lf() -> None:
    assert parse_all(b"data: a\ndata:b\ndata:  c\n\n") == [SSEEvent("", b"a\nb\n c")]


def test_it_skips_comments_and_events_without_data() -> None:
    assert parse_all(b": hello\n\nevent: empty\n\nid: 7\nretry: 10\n\n") == []


def test_it_resets_the_event_name_after_each_event() -> None:
    events = parse_all(b"event: a\ndata: 1\n\ndata: 2\n\n")
    assert [e.event for e in events] == ["a", ""]


def test_it_keeps_empty_data_lines() -> None:
    assert parse_all(b"data\n\ndata:\n\n") == [SSEEvent("", b""), SSEEvent("", b"")]


def test_it_flushes_a_final_event_without_blank_line() -> None:
    assert parse_all(b"data: tail") == [SSEEvent("", b"tail")]
    assert parse_all(b"data: tail\r") == [SSEEvent("", b"tail")]


def test_it_does_not_double_count_a_crlf_split_across_reads() -> None:
    parser = SSEParser()
    assert parser.feed(b"data: a\r") == []
    assert parser.feed(b"\n\r") == [SSEEvent("", b"a")]
    assert parser.feed(b"\ndata: b\r\n\r\n") == [SSEEvent("", b"b")]


def test_text_decodes_utf8() -> None:
    assert SSEEvent("", "ü".encode()).text == "ü"
