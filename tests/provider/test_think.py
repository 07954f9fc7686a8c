"""Inline ``<think>`` reasoning: split off the answer at every possible chunk boundary."""

from __future__ import annotations

import json

import pytest

from lime.providers.openai_compat.stream import StreamProcessor, completion_from_body
from lime.providers.openai_compat.think import ThinkSplitter, split
from lime.providers.openai_compat.types import ReasoningDelta, TextDelta

CASES = [
    ("<think>weigh it up</think>\n\nThe answer.", "weigh it up", "The answer."),
    ("  \n<thinking>a < b </thin</thinking>Yes.", "a < b </thin", "Yes."),
    ("No thinking here.", "", "No thinking here."),
    ("Use <think> tags like this.", "", "Use <think> tags like this."),
    ("<thi", "", "<thi"),
    ("<think>cut off by the token limit", "cut off by the token limit", ""),
    ("<think></think>Only the answer.", "", "Only the answer."),
    ("<thinker>not a tag</thinker>", "", "<thinker>not a tag</thinker>"),
    ("\n\n", "", "\n\n"),
]


def _run(text: str, cuts: list[int]) -> tuple[str, str]:
    splitter = ThinkSplitter()
    pieces = []
    last = 0
    for cut in cuts + [len(text)]:
        pieces += splitter.feed(text[last:cut])
        last = cut
    pieces += splitter.flush()
    return ("".join(p for k, p in pieces if k == "reasoning"), "".join(p for k, p in pieces if k == "text"))


@pytest.mark.parametrize(("text", "reasoning", "answer"), CASES)
def test_every_single_split_point(text: str, reasoning: str, answer: str) -> None:
    assert split(text) == (reasoning, answer)
    for cut in range(len(text) + 1):
        assert _run(text, [cut]) == (reasoning, answer), cut


@pytest.mark.parametrize(("text", "reasoning", "answer"), CASES[:2])
def test_one_character_at_a_time(text: str, reasoning: str, answer: str) -> None:
    assert _run(text, list(range(1, len(text)))) == (reasoning, answer)


def _sse(pieces: list[str]) -> bytes:
    chunks = [{"choices": [{"index": 0, "delta": {"content": p}}]} for p in pieces]
    chunks.append({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    return b"".join(b"data: " + json.dumps(c).encode() + b"\n\n" for c in chunks) + b"data: [DONE]\n\n"


def test_stream_turns_the_block_into_reasoning_events() -> None:
    proc = StreamProcessor("m")
    events = proc.feed(_sse(["<th", "ink>Let me", " see.</th", "ink>\n", "\nIt is ", "42."]))
    events += proc.end()
    assert "".join(e.text for e in events if isinstance(e, ReasoningDelta)) == "Let me see."
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "It is 42."
    done = proc.snapshot()
    assert done.text == "It is 42." and done.reasoning == "Let me see."
    message = done.to_message()
    assert message["content"] == "It is 42." and "reasoning_content" not in message
    assert message["_reasoning"] == "Let me see."  # kept for the session, never on the wire


def test_server_side_reasoning_is_still_sent_back_where_it_was() -> None:
    proc = StreamProcessor("m")
    chunk = {"choices": [{"index": 0, "delta": {"reasoning_content": "hmm", "content": "ok"}, "finish_reason": "stop"}]}
    proc.feed(b"data: " + json.dumps(chunk).encode() + b"\n\ndata: [DONE]\n\n")
    proc.end()
    assert proc.snapshot().to_message()["reasoning_content"] == "hmm"


def test_a_whole_body_is_split_too() -> None:
    body = {"choices": [{"index": 0, "message": {"role": "assistant", "content": "<think>x</think>Hi"},
                         "finish_reason": "stop"}]}
    c = completion_from_body(body, "m", None)
    assert (c.text, c.reasoning, c.reasoning_inline) == ("Hi", "x", True)
