"""Auto-compaction through the real command: by threshold, and after a server's overflow error."""

from __future__ import annotations

import pytest

from support.fakeserver import overflow, reply

from .conftest import Lime, chat, user_texts

WORDS = ("the quick brown fox jumps over the lazy dog while seven wizards quietly judge "
         "boxing matches in the old town square ")
LONG_Q = (WORDS * 40).strip()  # ~3,800 characters
LONG_A = (WORDS * 25).strip()


def _is_summary_request(req) -> bool:  # type: ignore[no-untyped-def]
    return not req.stream and "You summarise a conversation" in req.json["messages"][0]["content"]


@pytest.mark.parametrize("knob", [{"LIME_CODE_AUTO_COMPACT_INPUT_TOKENS": "600"},
                                  {"LIME_AUTOCOMPACT_PCT_OVERRIDE": "2"}])  # 2% of the 32,000 window
def test_threshold_compaction_is_recorded_and_replayed_on_resume(lime: Lime, knob: dict[str, str]) -> None:
    lime.server.enqueue(reply(LONG_A), reply("SUMMARY: the user talked about foxes."), reply("second answer"),
                        reply("third answer"))
    assert lime.run("-p", LONG_Q).returncode == 0
    proc = lime.run("-c", "-p", "next question", **knob)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "second answer\n"
    assert "compacting 2 earlier messages (auto)" in proc.stderr
    summary_req, chat_req = lime.server.chat_requests[1:3]
    assert _is_summary_request(summary_req)
    assert "quick brown fox" in summary_req.json["messages"][1]["content"]
    sent = chat(chat_req.json["messages"])
    # Roles alternate (templates such as Gemma's and Mistral's refuse two user messages in a row):
    # the summary, a short assistant acknowledgement, then the new question.
    assert [m["role"] for m in sent] == ["user", "assistant", "user"]
    assert "SUMMARY: the user talked about foxes." in sent[0]["content"]
    assert sent[2] == {"role": "user", "content": "next question"}
    assert any(e["type"] == "compaction" for e in lime.session_events())
    # A resumed session sees the compacted history, not the original one.
    assert lime.run("-c", "-p", "third question").returncode == 0
    assert user_texts(lime.server.last.json["messages"])[1:] == ["next question", "third question"]
    assert [m["role"] for m in chat(lime.server.last.json["messages"])] == ["user", "assistant", "user", "assistant", "user"]


def test_overflow_error_compacts_then_retries_once(lime: Lime) -> None:
    lime.server.enqueue(reply(LONG_A), overflow("openai", 140000, 128000), reply("SUMMARY: foxes."),
                        reply("answer after compaction"))
    assert lime.run("-p", LONG_Q).returncode == 0
    proc = lime.run("-c", "-p", "go on")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "answer after compaction\n"
    failed, summary_req, retry = lime.server.chat_requests[1:4]
    assert len(chat(failed.json["messages"])) == 3
    assert _is_summary_request(summary_req)
    assert [m["role"] for m in chat(retry.json["messages"])] == ["user", "assistant", "user"]
    assert [m["content"] for m in chat(retry.json["messages"])][2] == "go on"
    assert "SUMMARY: foxes." in chat(retry.json["messages"])[0]["content"]


def test_a_server_smaller_than_the_catalog_says(lime: Lime) -> None:
    """llama.cpp names its real window in the overflow error: the summary request is sized to fit it."""
    lime.server.use_profile("llamacpp")
    lime.server.profile.context_window = 1500  # type: ignore[union-attr]
    lime.server.enqueue(reply(LONG_A), reply("SUMMARY: foxes."), reply("fits now"))
    assert lime.run("-p", (WORDS * 20).strip()).returncode == 0
    proc = lime.run("-c", "-p", "go on " + WORDS)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "fits now\n"
    summaries = [r for r in lime.server.chat_requests if r.json and _is_summary_request(r)]
    assert summaries, "no summary request was sent"


def test_overflow_that_compaction_cannot_fix_fails_clearly(lime: Lime) -> None:
    lime.server.enqueue(overflow("openai"))
    proc = lime.run("-p", "hello")
    assert proc.returncode != 0
    assert "context" in proc.stderr.lower() and len(proc.stderr.strip().splitlines()) <= 2


def test_compact_on_demand_is_a_repl_command(lime: Lime) -> None:
    # covered through the pty in test_repl.py; here only make sure nothing compacts below the threshold
    lime.server.enqueue(reply("short"), reply("short again"))
    lime.run("-p", "hi")
    lime.run("-c", "-p", "hi again")
    assert not any(_is_summary_request(r) for r in lime.server.chat_requests)


def test_compaction_in_the_middle_of_a_tool_loop_shortens_old_results_first(lime: Lime) -> None:
    from support.fakeserver import tool_call_stream

    (lime.cwd / "big.txt").write_text((WORDS + "\n") * 60)
    lime.server.enqueue(
        tool_call_stream([("read_file", {"path": "big.txt"})]),
        tool_call_stream([("read_file", {"path": "big.txt", "start_line": 2})]),
        tool_call_stream([("grep", {"pattern": "unicorns", "path": "big.txt"})]),
        reply("All read."),
    )
    # The threshold leaves room for the tool definitions (the agent tool lists the sub-agents).
    proc = lime.run("-p", "read big.txt twice then grep it", LIME_CODE_AUTO_COMPACT_INPUT_TOKENS="2800")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "All read.\n"
    assert "shortened old tool results" in proc.stderr
    reqs = lime.server.chat_requests
    assert not any(_is_summary_request(r) for r in reqs)  # no request spent: the old result was shortened
    first, second = (m["content"] for m in reqs[2].json["messages"] if m["role"] == "tool")
    assert "characters dropped when compacting" in first and "characters dropped" not in second
    for r in reqs:
        msgs = r.json["messages"]
        ids_called = {c["id"] for m in msgs for c in m.get("tool_calls") or []}
        assert all(m["tool_call_id"] in ids_called for m in msgs if m["role"] == "tool"), "orphaned tool result"
    # a resumed session sees the shortened history
    lime.server.enqueue(reply("again"))
    assert lime.run("-c", "-p", "more").returncode == 0
    sent = [m["content"] for m in lime.server.last.json["messages"] if m["role"] == "tool"]
    assert "characters dropped when compacting" in sent[0]


def test_hundreds_of_tool_results_in_one_turn_shrink_below_the_window(lime: Lime) -> None:
    from lime.tokens import estimate_messages
    from support.fakeserver import tool_call_stream

    (lime.cwd / "big.txt").write_text((WORDS + "\n") * 20)
    calls = [("read_file", {"path": "big.txt", "start_line": 1 + i % 3}) for i in range(300)]
    lime.server.enqueue(tool_call_stream(calls), reply("Read them all."))
    proc = lime.run("--dangerously-skip-permissions", "-p", "read it 300 times")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "Read them all.\n"
    last = lime.server.last.json["messages"]
    assert sum(m["role"] == "tool" for m in last) == 300
    assert estimate_messages(last, None) < 32000


def test_a_prompt_that_cannot_fit_the_window_is_never_sent(lime: Lime) -> None:
    proc = lime.run("-p", "summarise", input=WORDS * 3000)
    assert proc.returncode == 1
    assert "does not fit the context window of fake-model (32,000 tokens)" in proc.stderr
    assert "nothing was sent" in proc.stderr and lime.server.requests == []


def test_a_summary_longer_than_what_it_replaces_is_discarded(lime: Lime) -> None:
    lime.server.enqueue(reply(LONG_A), reply("SUMMARY " * 3000), reply("answered without compaction"))
    assert lime.run("-p", LONG_Q).returncode == 0
    proc = lime.run("-c", "-p", "next question", LIME_CODE_AUTO_COMPACT_INPUT_TOKENS="600")
    assert proc.returncode == 0, proc.stderr
    assert "compaction discarded" in proc.stderr and proc.stdout == "answered without compaction\n"
    assert user_texts(lime.server.last.json["messages"]) == [LONG_Q, "next question"]
    assert not any(e["type"] == "compaction" for e in lime.session_events())




def test_a_threshold_above_the_window_still_compacts_before_refusing(lime: Lime) -> None:
    """LIME_CODE_AUTO_COMPACT_INPUT_TOKENS larger than the window must not turn a conversation that
    compaction can shrink into a refusal: the threshold says when to compact early, never 'never'."""
    lime.server.enqueue(reply(LONG_A), reply("SUMMARY: foxes."), reply("answered after compaction"))
    assert lime.run("-p", "read this", input=WORDS * 1000).returncode == 0  # ~19,000 tokens of a 32,000 window
    proc = lime.run("-c", "-p", "now this", input=WORDS * 800, LIME_CODE_AUTO_COMPACT_INPUT_TOKENS="100000")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "answered after compaction\n"
    assert "compacting 2 earlier messages (auto)" in proc.stderr
    assert "shortened old tool results" not in proc.stderr  # there were none to shorten
    assert _is_summary_request(lime.server.chat_requests[1])
