"""The SSE decoder against the WHATWG event-stream rules, wherever the network cuts the bytes."""

from __future__ import annotations

import json

import pytest

from lime.providers.openai_compat.errors import ResponseTooLarge
from lime.providers.openai_compat.sse import SSEDecoder
from lime.providers.openai_compat.stream import StreamProcessor

SAMPLE = (
    b": keep-alive\r\n\r\n"
    b"data: {\"choices\":[{\"delta\":{\"role\":\"assistant\",\"content\":\"H\xc3\xa9llo\"}}]}\r\n\r\n"
    b"data: {\"choices\":[{\"delta\":{\"reasoning_content\":\"think\"}}]}\n\n"
    b"event: message\nid: 7\nretry: 100\ndata: {\"choices\":[{\"delta\":\n"
    b"data: {\"content\":\" w\\u00f6rld\"}}]}\r\r"
    b"data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"c1\",\"function\":{\"name\":\"read\","
    b"\"arguments\":\"{\\\"pa\"}}]}}]}\n\n"
    b"data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"th\\\":1}\"}}]}}]}\n\n"
    b"data: {\"choices\":[{\"delta\":{},\"finish_reason\":\"tool_calls\"}]}\n\n"
    b"data: {\"choices\":[],\"usage\":{\"prompt_tokens\":11,\"completion_tokens\":5,\"total_tokens\":16}}\n\n"
    b"data: [DONE]\n\n"
)


def decode(pieces: list[bytes]) -> list[tuple[bytes, bytes]]:
    d = SSEDecoder()
    out: list[tuple[bytes, bytes]] = []
    for p in pieces:
        out += d.feed(p)
    return out + d.close()


def test_whole_sample_decodes_to_the_expected_events() -> None:
    events = decode([SAMPLE])
    assert len(events) == 8
    assert events[0] == (b"message", b'{"choices":[{"delta":{"role":"assistant","content":"H\xc3\xa9llo"}}]}')
    # a multi-line data field is joined with "\n" and the other fields are ignored
    assert json.loads(events[2][1]) == {"choices": [{"delta": {"content": " wörld"}}]}
    assert events[-1] == (b"message", b"[DONE]")


def test_every_single_byte_boundary_gives_the_same_events() -> None:
    whole = decode([SAMPLE])
    for k in range(1, len(SAMPLE)):
        assert decode([SAMPLE[:k], SAMPLE[k:]]) == whole, f"split at byte {k}"


def test_byte_by_byte_and_processor_result() -> None:
    pieces = [SAMPLE[i:i + 1] for i in range(len(SAMPLE))]
    assert decode(pieces) == decode([SAMPLE])
    proc = StreamProcessor("m")
    kinds = []
    for p in pieces:
        kinds += [e.kind for e in proc.feed(p)]
    kinds += [e.kind for e in proc.end()]
    assert kinds == ["text", "reasoning", "text", "tool_call", "finish", "usage"]
    c = proc.snapshot()
    assert c.text == "Héllo wörld" and c.reasoning == "think"
    assert [(t.id, t.name, t.arguments) for t in c.tool_calls] == [("c1", "read", '{"path":1}')]
    assert c.usage is not None and (c.usage.prompt_tokens, c.usage.completion_tokens, c.usage.estimated) == (11, 5, False)


def test_cr_only_line_endings_split_between_cr_and_lf() -> None:
    body = b"data: a\r\n\r\ndata: b\r\rdata: c\n\n"
    whole = decode([body])
    assert whole == [(b"message", b"a"), (b"message", b"b"), (b"message", b"c")]
    for k in range(1, len(body)):
        assert decode([body[:k], body[k:]]) == whole


def test_field_without_space_and_without_colon() -> None:
    assert decode([b"data:x\n\ndata\n\ndata: y\n\n"]) == [(b"message", b"x"), (b"message", b"y")]
    # "data" alone is an empty data line; an event whose data is empty is not dispatched
    assert decode([b"data\ndata: z\n\n"]) == [(b"message", b"\nz")]


def test_event_type_is_reported_and_reset() -> None:
    assert decode([b"event: error\ndata: {}\n\ndata: 1\n\n"]) == [(b"error", b"{}"), (b"message", b"1")]


def test_end_of_stream_keeps_complete_lines_and_drops_a_cut_line() -> None:
    d = SSEDecoder()
    assert d.feed(b"data: {\"a\":1}\n") == []
    assert d.close() == [(b"message", b'{"a":1}')]
    d = SSEDecoder()
    assert d.feed(b"data: {\"a\":") == []
    assert d.pending
    assert d.close() == []


SHAPES = [b"data: 1\n\n", b"event: e\ndata: 2\n\n", b"data: \n\n", b"event: e\ndata: \n\n", b"event: \ndata: 3\n\n",
          b"event: e\n\n", b"event: e\ndata: 4\ndata: 5\n\n", b": ping\n\n", b"data:6\n\n", b"event: f\n",
          b"data: 7\n\n", b"id: 1\ndata: 8\n\n", b"\n\n", b"event: e:x\ndata: 9\n\n", b"data: a\nevent: g\n\n"]


def test_reads_of_whole_events_decode_as_line_by_line() -> None:
    """A read of one whole event takes a shorter way; any mix of shapes, read whole, one event per
    read or a byte at a time, gives the same events (and an event type set by an earlier read holds)."""
    body = b"".join(SHAPES)
    slow = decode([body[i:i + 1] for i in range(len(body))])
    assert decode([body]) == slow
    assert decode(SHAPES) == slow
    assert slow[:5] == [(b"message", b"1"), (b"e", b"2"), (b"message", b"3"), (b"e", b"4\n5"), (b"message", b"6")]
    assert (b"f", b"7") in slow and (b"e:x", b"9") in slow and (b"g", b"a") in slow
    for n in range(1, len(SHAPES)):
        assert decode([b"".join(SHAPES[:n]), b"".join(SHAPES[n:])]) == slow


def test_a_read_of_whole_events_over_the_bound_still_fails() -> None:
    d = SSEDecoder(max_line=16)
    assert d.feed(b"data: 0123456789\n\n") == [(b"message", b"0123456789")]
    assert d.feed(b"data: 1\n\ndata: 0123456789abcdef\n\n") == [(b"message", b"1")]  # then the error
    with pytest.raises(ResponseTooLarge):
        d.feed(b"data: 2\n\n")
