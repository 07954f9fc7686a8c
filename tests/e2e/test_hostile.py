"""A hostile or broken server, seen through the ``lime`` command: each attack ends in one clear line
on stderr and a non-zero exit, with no traceback (``Lime.run`` checks that) and nothing of the key."""

from __future__ import annotations

import json

import pytest

from support.fakeserver import (
    SSE,
    FakeServer,
    Raw,
    endless_stream,
    error,
    gzip_bomb,
    huge_line,
    json_response,
    redirect,
    reply,
    text_stream,
)
from support.hostile import MALFORMED_BODIES, MALFORMED_CHUNKS, raw_json

from .conftest import Lime


def one_line_error(stderr: str) -> str:
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, stderr
    assert lines[0].startswith("lime: error: "), stderr
    return lines[0]


# -- 4. redirects ---------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [307, 302])
def test_a_redirect_to_another_origin_is_refused(lime: Lime, other_server: FakeServer, status: int) -> None:
    other_server.enqueue(reply("I am the other origin"))
    lime.server.enqueue(redirect(other_server.base_url + "/chat/completions", status))
    proc = lime.run("-p", "a private conversation")
    assert proc.returncode == 1
    line = one_line_error(proc.stderr)
    assert f"redirected the request (HTTP {status}) to another origin ({other_server.root_url})" in line
    assert other_server.requests == []  # neither the conversation nor the key went there
    assert "I am the other origin" not in proc.stdout


def test_a_redirect_within_the_same_origin_is_followed(lime: Lime) -> None:
    lime.server.enqueue(redirect(lime.server.root_url + "/v2/chat/completions", 308), text_stream("moved", chunks=2))
    proc = lime.run("-p", "hi")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "moved\n"
    assert [r.path for r in lime.server.chat_requests] == ["/v1/chat/completions", "/v2/chat/completions"]
    assert lime.server.last.json["messages"][-1]["content"] == "hi"


# -- 5. malformed replies ---------------------------------------------------------------------------

# Every shape the issue names, streamed and not, is in tests/provider/test_hostile.py; a few here.
STREAM_CASES = ["choices-string", "index-list", "usage-inf", "deep"]
BODY_CASES = ["message-string", "name-number", "deep"]


@pytest.mark.parametrize("case", STREAM_CASES)
def test_a_malformed_stream_chunk_is_one_clear_error(lime: Lime, case: str) -> None:
    chunk, expected = MALFORMED_CHUNKS[case]
    lime.server.enqueue(SSE([{"choices": [{"delta": {"content": "Partial "}}]}, Raw(f"data: {chunk}\n\n")]))
    proc = lime.run("-p", "hi")
    assert proc.returncode == 1
    line = one_line_error(proc.stderr)
    assert line.startswith("lime: error: fake (model fake-model): malformed response: "), line
    assert expected in line


@pytest.mark.parametrize("case", BODY_CASES)
def test_a_malformed_json_body_is_one_clear_error(lime: Lime, case: str) -> None:
    """A server that answers a streamed request with one JSON body takes the non-streamed path."""
    body, expected = MALFORMED_BODIES[case]
    lime.server.enqueue(raw_json(body))
    proc = lime.run("-p", "hi")
    assert proc.returncode == 1
    line = one_line_error(proc.stderr)
    assert "fake (model fake-model): malformed response: " in line and expected in line, line


# -- 6. bounds ----------------------------------------------------------------------------------------


def test_an_endless_stream_stops_at_the_answer_bound_and_the_session_keeps_it(lime: Lime) -> None:
    lime.server.enqueue(endless_stream("spam "))
    proc = lime.run("-p", "hi", LIME_MAX_ANSWER_SIZE="256K", timeout=60)
    assert proc.returncode == 1
    line = one_line_error(proc.stderr)
    assert "fake (model fake-model): stopped reading the response: the answer exceeds 256 KiB" in line
    assert "LIME_MAX_ANSWER_SIZE" in line
    assert proc.stdout.startswith("spam spam ") and 200_000 < len(proc.stdout) <= 256 * 1024 + 100
    kept = [e for e in lime.session_events() if e.get("role") == "assistant" or e.get("type") == "message"]
    assert any("spam spam" in json.dumps(e) for e in kept)


def test_a_line_without_end_stops_at_the_line_bound(lime: Lime) -> None:
    lime.server.enqueue(huge_line(3 << 20))
    proc = lime.run("-p", "hi", LIME_MAX_SSE_LINE="1M")
    assert proc.returncode == 1
    line = one_line_error(proc.stderr)
    assert "stopped reading the response: one line of the event stream exceeds 1 MiB (raise LIME_MAX_SSE_LINE" in line


def test_a_gzip_bomb_stops_at_the_body_bound(lime: Lime) -> None:
    lime.server.enqueue(gzip_bomb(48 << 20))
    proc = lime.run("-p", "hi", LIME_MAX_BODY_SIZE="4M")
    assert proc.returncode == 1
    line = one_line_error(proc.stderr)
    assert "stopped reading the response: the response body exceeds 4 MiB (raise LIME_MAX_BODY_SIZE" in line


# -- 7. error codes as strings ---------------------------------------------------------------------------


@pytest.mark.parametrize(("code", "words"), [("408", "the server timed out"), ("429", "rate limited"),
                                             ("401", "authentication failed")])
def test_an_error_in_the_stream_is_classified_by_its_code_string_or_int(lime: Lime, code: str | int,
                                                                        words: str) -> None:
    lime.server.enqueue(SSE([{"error": {"message": "upstream said no", "code": code}}]))
    proc = lime.run("-p", "hi")
    assert proc.returncode == 1
    line = one_line_error(proc.stderr)
    assert f"{words} (error in stream): upstream said no" in line


def test_an_error_body_with_status_200_is_classified_by_its_code(lime: Lime) -> None:
    lime.server.enqueue(json_response({"error": {"message": "Request timed out", "code": "408"}}))
    proc = lime.run("-p", "hi")
    assert proc.returncode == 1
    assert "the server timed out (error in body): Request timed out" in one_line_error(proc.stderr)


# -- 8. retry hints -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("headers", "seconds"), [
    ({"llm_provider-retry-after": "60"}, 60),
    ({"x-ratelimit-reset-requests": "6m0s", "x-ratelimit-remaining-requests": "0"}, 360),
])
def test_a_wait_hint_longer_than_the_cap_gives_up_at_once(lime: Lime, headers: dict[str, str], seconds: int) -> None:
    lime.server.enqueue(*[error(429, {"error": {"message": "slow down"}}, headers=headers)] * 4)
    proc = lime.run("-p", "hi", LIME_MAX_RETRIES="3", LIME_RETRY_MAX_DELAY="5", LIME_RETRY_BASE_DELAY="0.01")
    assert proc.returncode == 1
    line = one_line_error(proc.stderr)
    assert f"rate limited (HTTP 429): slow down (the server asks to wait {seconds}s; not waiting that long)" in line
    assert len(lime.server.chat_requests) == 1  # the quota is not burnt by retries


def test_a_short_wait_hint_is_honoured(lime: Lime) -> None:
    lime.server.enqueue(error(429, {"error": {"message": "slow down"}},
                              headers={"x-ratelimit-reset-requests": "20ms", "x-ratelimit-remaining-requests": "0"}),
                        text_stream("ok"))
    proc = lime.run("-p", "hi", LIME_MAX_RETRIES="1", LIME_RETRY_BASE_DELAY="5")
    assert proc.returncode == 0, proc.stderr
    first, second = lime.server.chat_requests
    assert 0.02 <= second.time - first.time < 4  # the hint, not the 5 s base delay
