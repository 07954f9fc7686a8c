"""Property tests: whatever a server sends, the provider's parsers give a value or one of lime's
errors, never another exception. Time-boxed (few examples, no per-example deadline) so the whole
file runs in seconds on a busy machine; ``HYPOTHESIS_PROFILE=thorough`` runs many more."""

from __future__ import annotations

import json
import math
import os
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lime.providers.openai_compat.errors import (
    BadResponse,
    ProviderError,
    ResponseTooLarge,
    classify,
    parse_error_body,
    retry_hint,
)
from lime.providers.openai_compat.sse import SSEDecoder
from lime.providers.openai_compat.stream import (
    MalformedChunk,
    StreamErrorPayload,
    StreamProcessor,
    completion_from_body,
)
from lime.providers.openai_compat.types import Completion

# Derandomized and without an example database: the same examples every run, no files written.
settings.register_profile("ci", max_examples=60, deadline=None, derandomize=True, database=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("thorough", max_examples=3000, deadline=None, database=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

LIMIT = 96

# Bytes that look like an event stream more often than random bytes would.
_tokens = st.sampled_from([b"data: ", b"data:", b"data", b"event: error", b"event:", b": ping", b"id: 1",
                           b"\n", b"\r", b"\r\n", b"\n\n", b"[DONE]", b'{"a":1}', b" ", b"x", b"\xc3\xa9",
                           b"\xff", b"\x00"])
stream_bytes = st.one_of(st.binary(max_size=400),
                         st.lists(_tokens, max_size=80).map(b"".join),
                         # reads ending with a whole event (one alone is taken a shorter way)
                         st.lists(_tokens, max_size=80).map(lambda parts: b"".join(parts) + b"\n\n"),
                         st.lists(st.one_of(_tokens, st.binary(min_size=20, max_size=60)), max_size=20).map(b"".join))


def _run(pieces: list[bytes]) -> tuple[list[tuple[bytes, bytes]], bool]:
    """The events a decoder gives for these reads, and whether it stopped on the line limit."""
    d = SSEDecoder(max_line=LIMIT)
    out: list[tuple[bytes, bytes]] = []
    try:
        for p in pieces:
            out += d.feed(p)
        out += d.close()
    except ResponseTooLarge:
        return out, True
    return out, False


def _cut(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    return [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]


@given(stream_bytes, st.lists(st.integers(min_value=0, max_value=10_000), max_size=12))
def test_sse_any_split_gives_the_events_of_the_whole(data: bytes, cuts: list[int]) -> None:
    whole = _run([data])
    assert _run(_cut(data, cuts)) == whole
    events, stopped = whole
    for event, payload in events:
        assert isinstance(event, bytes) and isinstance(payload, bytes) and payload
        assert len(payload) <= LIMIT
    if not stopped:
        assert _run([data[i:i + 1] for i in range(len(data))]) == whole


# -- the error-body parser ----------------------------------------------------------------------

_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=30)
_keys = st.sampled_from(["error", "message", "code", "type", "param", "detail", "msg", "loc", "status", "x"])
json_values: st.SearchStrategy[Any] = st.deferred(
    lambda: _scalars | st.lists(json_values, max_size=4) | st.dictionaries(_keys, json_values, max_size=4))


def _encode(value: Any) -> bytes:
    return json.dumps(value).encode()


error_bodies = st.one_of(st.binary(max_size=300), json_values.map(_encode),
                         st.text(max_size=200).map(lambda t: f"<html><title>{t}</title></html>".encode()),
                         st.integers(min_value=1, max_value=3000).map(lambda n: b"[" * n + b"]" * n))


@given(error_bodies, st.sampled_from(["", "application/json", "text/html", "text/plain"]))
def test_error_bodies_always_give_a_message(raw: bytes, ctype: str) -> None:
    body = parse_error_body(raw, ctype)
    assert isinstance(body.message, str) and "\n" not in body.message
    assert body.code is None or isinstance(body.code, str)


header_values = st.one_of(st.text(max_size=20), st.sampled_from(["1s", "6m0s", "20ms", "1h2m3.5s", "inf", "nan",
                                                                  "-1", "1e999", "Wed, 21 Oct 2015 07:28:00 GMT"]))


@given(st.integers(min_value=400, max_value=599), error_bodies,
       st.dictionaries(st.sampled_from(["retry-after", "retry-after-ms", "llm_provider-retry-after",
                                        "x-ratelimit-reset-requests", "x-ratelimit-reset-tokens",
                                        "x-ratelimit-remaining-requests", "content-type"]), header_values))
@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
def test_any_error_response_is_classified(status: int, raw: bytes, headers: dict[str, str]) -> None:
    err = classify(status, raw, headers, service="svc", model="m", secrets=("sk-secret-0123456789abcdef",))
    assert isinstance(err, ProviderError) and err.message.startswith("svc (model m): ")
    assert "\n" not in err.message and "sk-secret-0123456789abcdef" not in err.message
    hint = retry_hint(headers, status)
    assert hint is None or (math.isfinite(hint) and hint >= 0)


def test_bad_response_errors_are_value_errors() -> None:
    """Callers that already treat unparsable replies as ValueError keep working."""
    assert issubclass(BadResponse, ValueError) and issubclass(ResponseTooLarge, BadResponse)


# -- the stream processor and the body reader ---------------------------------------------------------


def _field(good: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly the right type, sometimes any JSON value at all."""
    return st.one_of(good, good, json_values)


_function = st.fixed_dictionaries({}, optional={"name": _field(st.sampled_from(["read_file", "bash", ""])),
                                                "arguments": _field(st.sampled_from(['{"a":', "1}", "{}", ""]))})
_tool_call = st.fixed_dictionaries({}, optional={"index": _field(st.integers(0, 3)),
                                                 "id": _field(st.sampled_from(["c1", "c2", ""])),
                                                 "type": st.just("function"), "function": _field(_function)})
_delta = st.fixed_dictionaries({}, optional={"role": st.just("assistant"), "content": _field(st.text(max_size=8)),
                                             "reasoning_content": _field(st.text(max_size=8)),
                                             "reasoning": _field(st.text(max_size=8)),
                                             "tool_calls": _field(st.lists(_field(_tool_call), max_size=2))})
_count = _field(st.integers(0, 10_000) | st.sampled_from([1e999, -1, 2**80, "12", 12.0, 1.5]))
_usage = st.fixed_dictionaries({}, optional={"prompt_tokens": _count, "completion_tokens": _count,
                                             "total_tokens": _count,
                                             "prompt_tokens_details": _field(st.fixed_dictionaries(
                                                 {"cached_tokens": _count}))})
_choice = st.fixed_dictionaries({}, optional={"index": st.just(0), "delta": _field(_delta), "message": _field(_delta),
                                              "finish_reason": _field(st.sampled_from(["stop", "length", "tool_calls"]))})
chunks = st.fixed_dictionaries({}, optional={"choices": _field(st.lists(_field(_choice), max_size=2)),
                                             "usage": _field(_usage), "model": _field(st.just("m")),
                                             "x_groq": _field(st.fixed_dictionaries({"usage": _field(_usage)}))})


def _check_completion(c: Completion) -> None:
    assert isinstance(c.text, str) and isinstance(c.reasoning, str)
    for call in c.tool_calls:
        assert isinstance(call.id, str) and isinstance(call.name, str) and isinstance(call.arguments, str)
    if c.usage is not None:
        for n in (c.usage.prompt_tokens, c.usage.completion_tokens, c.usage.total_tokens, c.usage.cached_tokens):
            assert isinstance(n, int) and 0 <= n <= 2**54


@given(st.lists(chunks, min_size=1, max_size=6), st.booleans())
def test_stream_chunks_of_any_shape_give_events_or_a_lime_error(items: list[Any], done: bool) -> None:
    proc = StreamProcessor("m", None)
    body = b"".join(b"data: " + json.dumps(i).encode() + b"\n\n" for i in items) + (b"data: [DONE]\n\n" if done else b"")
    try:
        proc.feed(body)
        events = proc.end()
    except (BadResponse, MalformedChunk, StreamErrorPayload):
        _check_completion(proc.snapshot())  # what arrived before the bad chunk is still whole
        return
    assert events and events[-1].kind == "usage"
    _check_completion(proc.snapshot())


@given(st.one_of(chunks, json_values))
def test_a_body_of_any_shape_is_a_completion_or_a_lime_error(obj: Any) -> None:
    try:
        c = completion_from_body(obj, "m", None)
    except BadResponse:
        return
    _check_completion(c)
