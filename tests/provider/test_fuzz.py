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

settings.register_profile("ci", max_examples=60, deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("thorough", max_examples=3000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

LIMIT = 96

# Bytes that look like an event stream more often than random bytes would.
_tokens = st.sampled_from([b"data: ", b"data:", b"data", b"event: error", b"event:", b": ping", b"id: 1",
                           b"\n", b"\r", b"\r\n", b"\n\n", b"[DONE]", b'{"a":1}', b" ", b"x", b"\xc3\xa9",
                           b"\xff", b"\x00"])
stream_bytes = st.one_of(st.binary(max_size=400),
                         st.lists(_tokens, max_size=80).map(b"".join),
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

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(["error", "message", "code", "type", "param", "detail", "msg", "loc", "status", "x"]),
        inner, max_size=4),
    max_leaves=25)


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
