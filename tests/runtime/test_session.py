"""Sessions: what a user gets back after saving, crashing, compacting and resuming."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from lime.runtime import session as sessions
from lime.runtime.session import INTERRUPTED_TOOL_RESULT, Session, SessionError


def _new(tmp_path: Path, **kw: object) -> Session:
    return Session.new("m1", directory=tmp_path / "sessions", **kw)  # type: ignore[arg-type]


def test_unused_session_leaves_no_file(tmp_path: Path) -> None:
    s = _new(tmp_path, system="be brief")
    assert not s.path.exists()
    s.append({"role": "user", "content": "hi"})
    lines = s.path.read_text().splitlines()
    assert json.loads(lines[0])["type"] == "session" and json.loads(lines[0])["model"] == "m1"
    assert [json.loads(x)["message"]["role"] for x in lines[1:]] == ["system", "user"]
    assert oct(s.path.stat().st_mode & 0o777) == "0o600"


def test_round_trip_with_model_settings_and_usage(tmp_path: Path) -> None:
    s = _new(tmp_path)
    s.append({"role": "user", "content": "hi"})
    s.append({"role": "assistant", "content": "hello"}, usage={"prompt_tokens": 10, "completion_tokens": 2})
    s.set_model("m2")
    s.set_settings(reasoning="high")
    s.close()
    back = Session.load(s.path)
    assert back.id == s.id and back.model == "m2" and back.settings == {"reasoning": "high"}
    assert back.messages == s.messages
    assert (back.totals.prompt_tokens, back.totals.completion_tokens) == (10, 2)
    assert back.warnings == []


def test_truncated_last_line_is_skipped_with_warning_and_appending_continues(tmp_path: Path) -> None:
    s = _new(tmp_path)
    s.append({"role": "user", "content": "first"})
    s.append({"role": "assistant", "content": "answer"})
    s.close()
    with s.path.open("ab") as fh:
        fh.write(b'{"type":"message","message":{"role":"user","con')
    back = Session.load(s.path)
    assert [m["content"] for m in back.messages] == ["first", "answer"]
    assert any("truncated last line" in w for w in back.warnings)
    back.append({"role": "user", "content": "again"})
    back.close()
    again = Session.load(s.path)
    assert [m["content"] for m in again.messages] == ["first", "answer", "again"]


def test_compaction_and_clear_replay_to_the_same_history(tmp_path: Path) -> None:
    s = _new(tmp_path, system="sys")
    for i in range(4):
        s.append({"role": "user", "content": f"q{i}"})
        s.append({"role": "assistant", "content": f"a{i}"})
    s.compact({"role": "user", "content": "[summary] q0..q2"}, keep_last=2, reason="auto")
    s.append({"role": "user", "content": "q4"})
    expected = list(s.messages)
    assert [m["content"] for m in expected] == ["sys", "[summary] q0..q2", "q3", "a3", "q4"]
    s.close()
    back = Session.load(s.path)
    assert back.messages == expected and back.compactions == 1
    back.clear()
    back.close()
    assert [m["content"] for m in Session.load(s.path).messages] == ["sys"]


def test_dangling_tool_call_gets_a_result_so_the_history_stays_valid(tmp_path: Path) -> None:
    s = _new(tmp_path)
    s.append({"role": "user", "content": "read it"})
    s.append({"role": "assistant", "content": None, "tool_calls": [
        {"id": "c1", "type": "function", "function": {"name": "read_file", "arguments": "{}"}},
        {"id": "c2", "type": "function", "function": {"name": "read_file", "arguments": "{}"}}]})
    s.append({"role": "tool", "tool_call_id": "c1", "content": "ok"})
    s.close()  # "killed" before c2's result
    back = Session.load(s.path)
    assert back.messages[-1] == {"role": "tool", "tool_call_id": "c2", "content": INTERRUPTED_TOOL_RESULT}
    back.append({"role": "user", "content": "next"})
    back.close()
    final = Session.load(s.path)
    assert [m.get("tool_call_id") for m in final.messages if m["role"] == "tool"] == ["c1", "c2"]
    assert final.messages[-1]["content"] == "next"


def test_find_by_latest_id_prefix_and_path(tmp_path: Path) -> None:
    d = tmp_path / "sessions"
    a = _new(tmp_path)
    a.append({"role": "user", "content": "a"})
    b = Session.new("m1", directory=d)
    b.id = "zz-other"
    b.path = d / "zz-other.jsonl"
    b.append({"role": "user", "content": "b"})
    os.utime(a.path, ns=(1, 1))
    assert sessions.find("latest", d) == b.path
    assert sessions.find(a.id, d) == a.path
    assert sessions.find("zz", d) == b.path
    assert sessions.find(str(a.path), d) == a.path
    with pytest.raises(SessionError, match="no session matches"):
        sessions.find("nope", d)
    c = Session.new("m1", directory=d)
    c.id, c.path = "zz-third", d / "zz-third.jsonl"
    c.append({"role": "user", "content": "c"})
    with pytest.raises(SessionError, match="matches 2 sessions"):
        sessions.find("zz", d)
    with pytest.raises(SessionError, match="no saved sessions"):
        sessions.find("latest", tmp_path / "empty")


def test_not_a_session_file_is_a_clear_error(tmp_path: Path) -> None:
    p = tmp_path / "x.jsonl"
    p.write_text("hello\nworld\n")
    with pytest.raises(SessionError, match="not a lime session"):
        Session.load(p)
    p.write_text('{"type":"message"}\n')
    with pytest.raises(SessionError, match="no header"):
        Session.load(p)


def test_latest_summary_for_status(tmp_path: Path) -> None:
    d = tmp_path / "sessions"
    assert sessions.latest_summary(d) is None
    s = _new(tmp_path)
    s.append({"role": "user", "content": "hi"})
    s.append({"role": "assistant", "content": "yo"}, usage={"prompt_tokens": 7, "completion_tokens": 3, "estimated": True})
    info = sessions.latest_summary(d)
    assert info is not None and info["id"] == s.id and info["messages"] == 2
    assert (info["prompt_tokens"], info["completion_tokens"], info["estimated"]) == (7, 3, True)


def test_streamed_text_survives_a_crash_and_is_superseded_by_the_final_message(tmp_path: Path) -> None:
    s = _new(tmp_path)
    s.append({"role": "user", "content": "q"})
    for piece in ("Hel", "lo ", "wor"):
        s.stream_text(piece, interval=0.0)
    s.close()  # "killed" before the answer was saved
    back = Session.load(s.path)
    assert back.messages[-1] == {"role": "assistant", "content": "Hello wor"}
    assert any("cut off" in w for w in back.warnings)
    back.append({"role": "user", "content": "again"})
    back.stream_text("Fin", interval=0.0)
    back.stream_text("al", interval=0.0)
    back.append({"role": "assistant", "content": "Final"})
    back.close()
    final = Session.load(s.path)
    assert [m["content"] for m in final.messages] == ["q", "Hello wor", "again", "Final"]
    assert final.warnings == []


def test_a_session_open_in_one_process_is_refused_to_another(tmp_path: Path) -> None:
    s = _new(tmp_path)
    s.append({"role": "user", "content": "hi"})
    other = Session.load(s.path)
    with pytest.raises(SessionError, match="in use by another lime process"):
        other.claim()
    s.close()
    other.claim()
    other.append({"role": "user", "content": "mine now"})
    other.close()
    assert Session.load(s.path).messages[-1]["content"] == "mine now"


def _lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(x) for x in path.read_text().splitlines()]


def _write_events(tmp_path: Path, *events: object) -> Path:
    path = tmp_path / "sessions" / "20260101-000000-abcdef.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    header = {"type": "session", "version": 1, "id": "20260101-000000-abcdef", "model": "m1"}
    path.write_text("".join((e if isinstance(e, str) else json.dumps(e)) + "\n" for e in (header, *events)))
    return path


CALL = {"role": "assistant", "content": None, "tool_calls": [
    {"id": "c1", "type": "function", "function": {"name": "read_file", "arguments": "{}"}}]}


def test_lines_of_the_wrong_shape_are_skipped_with_a_warning(tmp_path: Path) -> None:
    path = _write_events(
        tmp_path,
        {"type": "message", "message": {"role": "user", "content": "q"}},
        {"type": "message", "message": {"role": "assistant", "content": None, "tool_calls": "x"}},
        {"type": "message", "message": {"role": "assistant", "content": "a"}, "usage": [1, 2]},
        {"type": "message", "message": {"role": "assistant", "content": "a2"}, "usage": {"prompt_tokens": "9"}},
        {"type": "message", "message": {"role": "wizard", "content": "?"}},
        {"type": "message", "message": {"role": "user", "content": 5}},
        {"type": "compaction", "summary_message": {"role": "user", "content": "s"}, "keep_last": "2"},
        {"type": "model", "model": ["m2"]},
        {"type": "settings", "settings": "high"},
        {"type": "partial", "text": 7},
        {"type": "message", "message": {"role": "user", "content": "q2"}},
    )
    s = Session.load(path)
    assert [m["content"] for m in s.messages] == ["q", "a2", "q2"]
    assert s.model == "m1" and s.totals.prompt_tokens == 0
    assert sum("skipped line" in w for w in s.warnings) == 8
    info = sessions.latest_summary(path.parent)
    assert info is not None and info["id"] == "20260101-000000-abcdef"


def test_a_corrupt_tool_result_in_the_middle_gets_a_result_lost_answer(tmp_path: Path) -> None:
    path = _write_events(
        tmp_path,
        {"type": "message", "message": {"role": "user", "content": "read it"}},
        {"type": "message", "message": CALL},
        '{"type":"message","message":{"role":"tool","tool_call_id":"c1","cont',
        {"type": "message", "message": {"role": "assistant", "content": "done"}},
        {"type": "message", "message": {"role": "tool", "tool_call_id": "zz", "content": "orphan"}},
        {"type": "message", "message": {"role": "user", "content": "next"}},
    )
    s = Session.load(path)
    roles = [m["role"] for m in s.messages]
    assert roles == ["user", "assistant", "tool", "assistant", "user"]
    assert s.messages[2] == {"role": "tool", "tool_call_id": "c1", "content": sessions.LOST_TOOL_RESULT}
    assert any("malformed line 4" in w for w in s.warnings)
    assert any("no pending tool call" in w for w in s.warnings)


def test_two_user_messages_in_a_row_never_reach_the_history(tmp_path: Path) -> None:
    # an older lime left a failed turn's prompt dangling
    path = _write_events(
        tmp_path,
        {"type": "message", "message": {"role": "user", "content": "first"}},
        {"type": "message", "message": {"role": "user", "content": "second"}},
    )
    s = Session.load(path)
    assert [m["role"] for m in s.messages] == ["user", "assistant", "user"]
    # a turn that fails now is recorded; appending the next prompt never doubles the user
    s.record_failure("the server said 500")
    s.append({"role": "user", "content": "third"})
    s.close()
    back = Session.load(path)
    roles = [m["role"] for m in back.messages]
    assert all(not (a == b == "user") for a, b in zip(roles, roles[1:], strict=False))
    assert "the server said 500" in back.messages[-2]["content"]


def test_status_summary_comes_from_the_tail_whatever_the_size(tmp_path: Path) -> None:
    """A 4 GiB session (sparse) under a 1 GiB memory limit: a whole-file read cannot succeed."""
    import subprocess
    import sys

    s = _new(tmp_path)
    s.append({"role": "user", "content": "hi"})
    s.close()
    s.messages.append({"role": "assistant", "content": "yo"})
    s.totals.add({"prompt_tokens": 7, "completion_tokens": 3})
    last = {"type": "message", "message": s.messages[-1], "stats": s.stats()}
    with s.path.open("r+b") as fh:
        fh.seek(4 << 30)
        fh.write(b"\n" + json.dumps(last).encode() + b"\n")
    code = ("import resource, json; resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30)); "
            "from lime.runtime.session import latest_summary; import sys; "
            f"print(json.dumps(latest_summary(__import__('pathlib').Path({str(s.path.parent)!r}))))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr[-500:]
    info = json.loads(proc.stdout)
    assert info["messages"] == 2 and info["prompt_tokens"] == 7 and info["completion_tokens"] == 3


def test_known_keys_are_masked_in_the_session_file(tmp_path: Path) -> None:
    key = "sk-session-secret-0000000011112222"
    s = _new(tmp_path)
    s.secrets = [key]
    s.append({"role": "user", "content": f"my key is {key} and half is {key[5:20]}"})
    s.close()
    text = s.path.read_text()
    assert all(key[i:i + 8] not in text for i in range(len(key) - 7))


@pytest.mark.parametrize("cost", ["NaN", "-1", "1e400", '"5"', "true", "1e12", "[1]"])
def test_a_hostile_running_cost_in_a_session_file_is_not_believed(tmp_path: Path, cost: str) -> None:
    """The cost a file's last line carries is read back on resume and by lime status: one that is
    not a sane number of dollars counts the requests as at unknown prices instead."""
    from lime.catalog.prices import Prices, session_cost

    s = _new(tmp_path)
    s.prices = Prices(1.0, 1.0, 2.0, "2026-12")
    s.append({"role": "user", "content": "hi"})
    s.append({"role": "assistant", "content": "hello"}, usage={"prompt_tokens": 1000, "completion_tokens": 500})
    s.close()
    lines = s.path.read_text().splitlines()
    assert json.loads(lines[-1])["stats"]["cost_usd"] == 0.002
    lines[-1] = lines[-1].replace('"cost_usd":0.002', f'"cost_usd":{cost}')
    assert cost in lines[-1]
    s.path.write_text("\n".join(lines) + "\n")
    back = Session.load(s.path)
    assert back.totals.to_json().get("cost_usd") is None and back.totals.unpriced_requests == 1
    summary = sessions.latest_summary(tmp_path / "sessions")
    assert summary is not None and "cost_usd" not in summary
    entry = type("E", (), {"slug": "m1", "input_price": 1.0, "output_price": 2.0})()
    assert session_cost(entry, back.totals.to_json()).startswith("unknown")
