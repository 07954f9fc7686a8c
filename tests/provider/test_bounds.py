"""Bounds on what a server may send, checked on the parts that enforce them: the event-stream line,
nested JSON, the size knobs. (The same attacks through the ``lime`` command: tests/e2e/test_hostile.py.)"""

from __future__ import annotations

import json

import pytest

from lime import config, jsonguard
from lime.errors import ConfigError
from lime.providers.openai_compat.errors import ResponseTooLarge
from lime.providers.openai_compat.sse import SSEDecoder


def test_a_line_longer_than_the_limit_stops_the_decoder_after_the_events_before_it() -> None:
    d = SSEDecoder(max_line=1024)
    assert d.feed(b"data: 1\n\ndata: 2\n\ndata: " + b"x" * 600) == [(b"message", b"1"), (b"message", b"2")]
    with pytest.raises(ResponseTooLarge, match=r"one line of the event stream exceeds 1 KiB \(raise LIME_MAX_SSE_LINE"):
        d.feed(b"x" * 600)
    with pytest.raises(ResponseTooLarge):  # and stays stopped
        d.close()


def test_a_too_long_line_inside_one_read_is_caught_and_earlier_events_still_arrive() -> None:
    d = SSEDecoder(max_line=1024)
    assert d.feed(b"data: ok\n\ndata: " + b"y" * 2000 + b"\n\ndata: later\n\n") == [(b"message", b"ok")]
    with pytest.raises(ResponseTooLarge):
        d.feed(b"data: more\n\n")


def test_an_event_of_many_short_data_lines_is_bounded_too() -> None:
    d = SSEDecoder(max_line=1024)
    with pytest.raises(ResponseTooLarge):
        for _ in range(200):
            d.feed(b"data: 0123456789\n")
        d.close()


def test_a_line_cut_into_many_reads_is_joined_once() -> None:
    d = SSEDecoder(max_line=1 << 20)
    line = b"data: " + json.dumps({"x": "z" * 300_000}).encode()
    for i in range(0, len(line), 7):
        assert d.feed(line[i:i + 7]) == []
    assert d.pending
    assert d.feed(b"\n\n") == [(b"message", line[6:])]
    assert not d.pending


def test_empty_reads_between_cr_and_lf_do_not_make_a_blank_line() -> None:
    d = SSEDecoder(max_line=1024)
    out = d.feed(b"data: a\r") + d.feed(b"") + d.feed(b"\ndata: b\n\n")
    assert out == [(b"message", b"a\nb")]


@pytest.mark.parametrize("depth", [129, 100_000])
def test_deeply_nested_json_is_a_value_error_not_a_recursion_error(depth: int) -> None:
    doc = "[" * depth + "]" * depth
    with pytest.raises(jsonguard.JSONTooDeep, match="nested more than 128 levels"):
        jsonguard.loads(doc)
    with pytest.raises(ValueError):
        jsonguard.loads(doc.encode())


def test_brackets_inside_strings_do_not_count_towards_depth() -> None:
    doc = json.dumps({"content": "[" * 5000 + '"{' * 300, "deep": [[[[{"a": [1]}]]]]})
    assert jsonguard.loads(doc)["deep"] == [[[[{"a": [1]}]]]]
    ok = "[" * 128 + "]" * 128
    assert jsonguard.loads(ok) is not None
    assert not jsonguard.depth_exceeds("[" * 300 + "}" * 300)  # not JSON: the parser says so
    with pytest.raises(ValueError):
        jsonguard.loads("[" * 300 + "}" * 300)


@pytest.mark.parametrize(("raw", "value"), [("2048", 2048), ("16M", 16 << 20), ("16 MiB", 16 << 20), ("1g", 1 << 30),
                                             ("64k", 64 << 10)])
def test_size_knobs_take_units(monkeypatch: pytest.MonkeyPatch, raw: str, value: int) -> None:
    monkeypatch.setenv("LIME_MAX_ANSWER_SIZE", raw)
    assert config.max_answer_size() == value


@pytest.mark.parametrize("raw", ["lots", "-5", "1.5M", "nan", "inf", "12Q", "10", "9" * 40])
def test_bad_size_knobs_are_one_clear_error(monkeypatch: pytest.MonkeyPatch, raw: str) -> None:
    monkeypatch.setenv("LIME_MAX_SSE_LINE", raw)
    with pytest.raises(ConfigError, match="LIME_MAX_SSE_LINE must be"):
        config.max_sse_line()


def test_size_defaults() -> None:
    assert (config.max_answer_size(), config.max_sse_line(), config.max_body_size()) == (16 << 20, 8 << 20, 64 << 20)
