"""Every server quirk in quirks.py against its own sample, and the fake server's wordings against quirks.py."""

from __future__ import annotations

import json
import re

import pytest

from lime.providers.openai_compat import quirks
from lime.providers.openai_compat.compat_memory import Lessons
from lime.providers.openai_compat.errors import (
    ContextOverflowError,
    ErrorBody,
    classify,
    looks_like_overflow,
    overflow_numbers,
    parse_error_body,
)
from lime.providers.openai_compat.request import heal
from lime.providers.openai_compat.stream import StreamErrorPayload, StreamProcessor
from lime.providers.openai_compat.types import ReasoningDelta, TextDelta
from support.fakeserver import PROFILES, ErrorResponse, overflow


def _id(entry: object) -> str:
    return "+".join(entry.servers) + ":" + entry.sample[:30]  # type: ignore[attr-defined]


@pytest.mark.parametrize("entry", quirks.OVERFLOWS, ids=_id)
def test_each_overflow_sample_is_recognised_with_its_numbers(entry: quirks.Overflow) -> None:
    assert re.search(entry.phrase, entry.sample, re.I)
    assert looks_like_overflow(entry.sample)
    err = classify(400, json.dumps({"error": {"message": entry.sample}}).encode(), {}, service="s", model="m")
    assert isinstance(err, ContextOverflowError)
    if entry.counts is None:
        return
    m = re.search(entry.counts, entry.sample, re.I | re.S)
    assert m is not None and set(m.groupdict()) == {"prompt", "window"}
    want = int(m["prompt"]), int(m["window"])
    assert want[0] > want[1] > 0  # every sample is a prompt too large for its window
    assert overflow_numbers(entry.sample) == want == (err.n_prompt, err.n_ctx)


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_fake_server_overflow_wordings_are_in_quirks(name: str) -> None:
    profile = PROFILES[name]
    server = "openai" if profile.overflow is PROFILES["openai"].overflow else name.split("-")[0]
    resp = overflow(name, n_prompt=9000, window=8192)
    assert isinstance(resp, ErrorResponse)
    body = parse_error_body(json.dumps(resp.body).encode())
    covering = [o for o in quirks.OVERFLOWS if server in o.servers and re.search(o.phrase, body.message, re.I)]
    assert covering, f"{name}: no quirks.OVERFLOWS entry for {server} recognises {body.message!r}"
    counted = [o for o in covering if o.counts and re.search(o.counts, body.message, re.I | re.S)]
    if counted:
        assert overflow_numbers(body.message) == (9000, 8192)


def test_a_rate_limit_that_mentions_tokens_is_not_an_overflow() -> None:
    msg = ("Request too large for model `llama-3.3-70b-versatile` on tokens per minute (TPM): Limit 6000, "
           "Requested 14810, please reduce your message size and try again.")
    assert quirks.rate_limit_words().search(msg) and not looks_like_overflow(msg)


@pytest.mark.parametrize("entry", quirks.REFUSALS, ids=_id)
def test_each_refusal_sample_names_a_field_to_drop(entry: quirks.Refusal) -> None:
    assert re.search(entry.pattern, entry.sample, re.I) and quirks.refusal().search(entry.sample)
    sent = {"model": "m", "messages": [], "stream_options": {}, "max_tokens": 1, "temperature": 0.2,
            "verbosity": "low", "tool_choice": {}, "response_format": {}, "reasoning_effort": "none", "store": True,
            "service_tier": "flex", "parallel_tool_calls": True, "tools": [], "user": "u"}
    fix = heal(400, ErrorBody(entry.sample), sent, Lessons(set(), set(), None))
    assert fix is not None and fix.field in sent and fix.field in entry.sample


@pytest.mark.parametrize("shape", quirks.SHAPES, ids=lambda s: "+".join(s.servers) + ":" + s.what)
def test_each_response_shape_sample(shape: quirks.Shape) -> None:
    proc = StreamProcessor("m")
    if shape.what == "error":
        with pytest.raises(StreamErrorPayload):
            proc.feed(b"data: " + shape.sample + b"\n\n")
        return
    events = proc.feed(b"data: " + shape.sample + b"\n\n")
    if shape.what == "usage":
        assert proc.usage is not None and not proc.usage.estimated and proc.usage.total_tokens == 19
    elif shape.what == "reasoning":
        assert events == [ReasoningDelta("Let me think.")]
    else:
        assert events[0] == TextDelta("Hi")


@pytest.mark.parametrize(("header", "value", "seconds"), [("retry-after", "7", 7.0), ("retry-after-ms", "1500", 1.5)])
def test_each_retry_header(header: str, value: str, seconds: float) -> None:
    assert header in dict(quirks.RETRY_HEADERS)
    err = classify(429, b'{"error": {"message": "slow down"}}', {header: value}, service="s", model="m")
    assert err.kind == "rate_limit" and err.retry_after == seconds
