"""Where compaction cuts: never between a tool call and its results; recent turns kept verbatim."""

from __future__ import annotations

from lime.runtime import compaction


def count(text: str) -> int:
    return len(text) // 4


def convo() -> list[dict]:
    m: list[dict] = [{"role": "system", "content": "sys"}]
    for i in range(6):
        m.append({"role": "user", "content": f"question {i} " + "x" * 400})
        m.append({"role": "assistant", "content": None, "tool_calls": [
            {"id": f"c{i}", "type": "function", "function": {"name": "read_file", "arguments": "{}"}}]})
        m.append({"role": "tool", "tool_call_id": f"c{i}", "content": "y" * 800})
        m.append({"role": "assistant", "content": f"answer {i}"})
    return m


def test_cut_is_at_a_user_turn_and_never_after_a_tool_call() -> None:
    msgs = convo()
    for budget in range(50, 2000, 37):
        split = compaction.choose_split(msgs, budget, count)
        assert split is not None and 1 < split.cut < len(msgs)
        assert msgs[split.cut]["role"] != "tool"
        prev = msgs[split.cut - 1]
        assert not prev.get("tool_calls"), "a tool call was separated from its result"
    split = compaction.choose_split(msgs, 700, count)
    assert split is not None and msgs[split.cut]["role"] == "user"
    assert split.keep_last == len(msgs) - split.cut


def test_nothing_to_compact() -> None:
    assert compaction.choose_split([{"role": "system", "content": "s"}, {"role": "user", "content": "hi"}], 10, count) is None


def test_summary_request_fits_its_budget_and_keeps_the_previous_summary() -> None:
    older = [compaction.summary_message("earlier stuff"), *convo()[1:]]
    req = compaction.summary_request(older, 600, count)
    total = sum(count(m["content"]) for m in req)
    assert total <= 600
    assert "EARLIER SUMMARY:\nearlier stuff" in req[1]["content"]
    assert compaction.OMITTED in req[1]["content"]
    assert "answer 5" in req[1]["content"]  # the newest part survives trimming


def test_a_lone_previous_summary_is_not_summarised_again() -> None:
    msgs = [{"role": "system", "content": "s"}, compaction.summary_message("old"), {"role": "user", "content": "x" * 9000}]
    assert compaction.choose_split(msgs, 10, count) is None


def test_shrinking_changes_nothing_when_there_is_no_tool_result_to_shorten() -> None:
    from lime.runtime.compaction import DROPPED_RESULT, shrink_tool_results

    def count(text: str) -> int:
        return len(text) // 4

    plain = [{"role": "user", "content": "x" * 4000}, {"role": "assistant", "content": "y" * 4000}]
    assert shrink_tool_results(plain, 10, count) is plain
    calls = {"role": "assistant", "content": None, "tool_calls": [
        {"id": str(i), "type": "function", "function": {"name": "read_file", "arguments": "{}"}} for i in range(3)]}
    results = [{"role": "tool", "tool_call_id": str(i), "content": "z" * 3000} for i in range(3)]
    cut = [m["content"] for m in shrink_tool_results([calls, *results], 800, count)[1:]]
    assert all("characters dropped when compacting" in c for c in cut)  # long results cut first
    dropped = [m["content"] for m in shrink_tool_results([calls, *results], 250, count)[1:]]
    assert [c.startswith(DROPPED_RESULT) for c in dropped] == [True, True, False]  # then the oldest go
    assert "characters dropped when compacting" in dropped[2]


def test_roles_alternate_after_a_summary_as_sent() -> None:
    """Two user messages in a row (summary, then a prompt) are refused by strict chat templates."""
    from lime.runtime.compaction import SUMMARY_ACK, alternating, summary_message

    system = {"role": "system", "content": "be brief"}
    summary = summary_message("we talked about foxes")
    ask = {"role": "user", "content": "go on"}
    answer = {"role": "assistant", "content": "sure"}
    sent = alternating([system, summary, ask])
    assert [m["role"] for m in sent] == ["system", "user", "assistant", "user"]
    assert sent[2]["content"] == SUMMARY_ACK and sent[3] == ask
    # Already alternating, or nothing after the summary yet: sent as it is.
    assert alternating([system, summary, answer, ask]) == [system, summary, answer, ask]
    assert alternating([summary]) == [summary]
    assert alternating([ask, answer]) == [ask, answer]
