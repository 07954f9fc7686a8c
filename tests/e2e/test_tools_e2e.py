"""A multi-step tool task (read a file, edit it, answer) under every permission mode."""

from __future__ import annotations

import json

import pytest

from support.fakeserver import reply, tool_call_stream

from .conftest import KEY, Lime

ORIGINAL = "greeting = 'hello'\ncount = 1\n"


def script(lime: Lime) -> None:
    lime.server.enqueue(
        tool_call_stream([("read_file", {"path": "notes.py"})]),
        tool_call_stream([("edit_file", {"path": "notes.py", "old_string": "count = 1", "new_string": "count = 2"})]),
        reply("I bumped the count."),
    )


@pytest.mark.parametrize(("flags", "edited", "refusal"), [
    ([], False, "no terminal to ask"),
    (["--permission-mode", "default"], False, "no terminal to ask"),
    (["--permission-mode", "plan"], False, "plan mode"),
    (["--permission-mode", "acceptEdits"], True, None),
    (["--permission-mode", "bypassPermissions"], True, None),
    (["--dangerously-skip-permissions"], True, None),
    (["--permission-mode", "dontAsk"], True, None),
    (["--settings", '{"permissions": {"allow": ["Edit(notes.py)"]}}'], True, None),
    (["--settings", '{"permissions": {"defaultMode": "dontAsk", "deny": ["edit_file"]}}'], False, "denied by the rule"),
    (["--allowedTools", "Read,Edit"], False, "no terminal to ask"),
])
def test_read_edit_answer(lime: Lime, flags: list[str], edited: bool, refusal: str | None) -> None:
    (lime.cwd / "notes.py").write_text(ORIGINAL)
    script(lime)
    proc = lime.run(*flags, "-p", "bump the count in notes.py")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "I bumped the count.\n"
    assert "● read_file notes.py" in proc.stderr and "● edit_file notes.py" in proc.stderr
    first, second, third = lime.server.chat_requests
    tool_names = {t["function"]["name"] for t in first.json["tools"]}
    assert ("write_file" in tool_names) is ("plan" not in flags)
    read_result = second.json["messages"][-1]
    assert read_result["role"] == "tool" and "1\tgreeting = 'hello'" in read_result["content"]
    edit_result = third.json["messages"][-1]
    text = (lime.cwd / "notes.py").read_text()
    if edited:
        assert text == ORIGINAL.replace("count = 1", "count = 2")
        assert edit_result["content"].startswith("edited notes.py")
    else:
        assert text == ORIGINAL
        assert edit_result["content"].startswith("permission denied") and refusal in edit_result["content"]
        assert "refused edit_file" in proc.stderr and refusal in proc.stderr


def test_json_reports_the_tool_calls(lime: Lime) -> None:
    (lime.cwd / "notes.py").write_text(ORIGINAL)
    script(lime)
    data = json.loads(lime.run("--json", "--permission-mode", "acceptEdits", "-p", "bump").stdout)
    assert [(t["name"], t["status"]) for t in data["tool_calls"]] == [("read_file", "ok"), ("edit_file", "ok")]
    assert data["tool_calls"][1]["arguments"]["new_string"] == "count = 2"
    assert data["requests"] == 3 and data["text"] == "I bumped the count."


def test_parallel_reads_and_workspace_boundary(lime: Lime, tmp_path) -> None:  # type: ignore[no-untyped-def]
    (lime.cwd / "a.txt").write_text("A\n")
    (lime.cwd / "b.txt").write_text("B\n")
    (tmp_path / "outside.txt").write_text("SECRET\n")
    lime.server.enqueue(
        tool_call_stream([("read_file", {"path": "a.txt"}), ("read_file", {"path": "b.txt"}),
                          ("read_file", {"path": "../outside.txt"})], interleave=True),
        reply("done"),
    )
    proc = lime.run("-p", "read them")
    assert proc.returncode == 0, proc.stderr
    results = [m for m in lime.server.last.json["messages"] if m["role"] == "tool"]
    assert [r["tool_call_id"] for r in results] == ["call_0", "call_1", "call_2"]
    assert "1\tA" in results[0]["content"] and "1\tB" in results[1]["content"]
    assert "outside the workspace" in results[2]["content"] and "SECRET" not in results[2]["content"]


def test_shell_needs_approval_and_turn_limit_stops_the_loop(lime: Lime) -> None:
    lime.server.enqueue(tool_call_stream([("shell", {"command": "echo hi > made.txt"})]), reply("ok"))
    proc = lime.run("--permission-mode", "acceptEdits", "-p", "run it")
    assert proc.returncode == 0 and not (lime.cwd / "made.txt").exists()
    lime.server.enqueue(tool_call_stream([("shell", {"command": "echo hi > made.txt"})]), reply("ok"))
    proc = lime.run("--allowedTools", "Bash(echo:*)", "-p", "run it")
    assert proc.returncode == 0 and (lime.cwd / "made.txt").read_text() == "hi\n"
    lime.server.enqueue(*[tool_call_stream([("list_files", {})]) for _ in range(3)])
    proc = lime.run("--max-turns", "2", "-p", "loop forever")
    assert proc.returncode == 1 and "--max-turns 2" in proc.stderr
    assert len(lime.server.chat_requests) == 2 + 2 + 2
    lime.server.enqueue(tool_call_stream([("list_files", {})]))
    proc = lime.run("--max-turns", "1", "-p", "one turn")
    assert proc.returncode == 1 and "stopped after 1 model request (--max-turns 1)" in proc.stderr


def test_no_tools_flag_and_models_without_tools(lime: Lime) -> None:
    lime.server.enqueue(reply("a"), reply("b"))
    lime.run("--no-tools", "-p", "x")
    assert "tools" not in lime.server.last.json
    lime.run("--model", "other-model", "-p", "x")
    assert "tools" not in lime.server.last.json
    # A call the model invents anyway is answered, never run.
    lime.server.enqueue(tool_call_stream([("write_file", {"path": "x.txt", "content": "x"})]), reply("ok"))
    proc = lime.run("--no-tools", "--dangerously-skip-permissions", "-p", "x")
    assert proc.returncode == 0 and not (lime.cwd / "x.txt").exists()
    assert "no tools are available" in lime.server.last.json["messages"][-1]["content"]


def test_stream_json_reports_tool_events_in_order(lime: Lime) -> None:
    (lime.cwd / "notes.py").write_text(ORIGINAL)
    script(lime)
    proc = lime.run("--output-format", "stream-json", "--permission-mode", "acceptEdits", "-p", "bump")
    events = [json.loads(line) for line in proc.stdout.splitlines()]
    kinds = [e["type"] for e in events if e["type"] != "text"]
    assert kinds == ["start", "tool_call", "tool_result", "tool_call", "tool_result", "result"]
    assert events[1]["name"] == "read_file" and events[2]["status"] == "ok"
    assert events[-1]["text"] == "I bumped the count."


def test_bad_tool_flags_fail_before_anything_starts(lime: Lime) -> None:
    for flags, words in ((["--allowedTools", "Frobnicate"], "unknown tool"),
                         (["--add-dir", "does/not/exist"], "not a directory"),
                         (["--dangerously-skip-permissions", "--permission-mode", "plan"], "conflicts")):
        proc = lime.run(*flags, "-p", "hi")
        assert proc.returncode == 2 and words in proc.stderr
    assert lime.server.requests == [] and lime.sessions() == []


def test_tools_never_hand_the_api_key_to_the_model_or_the_session(lime: Lime) -> None:
    creds = str(lime.home / "credentials.json")
    lime.server.enqueue(
        tool_call_stream([("shell", {"command": f"cat {creds}; env"}), ("read_file", {"path": creds})]),
        reply("nothing to see"),
    )
    proc = lime.run("--dangerously-skip-permissions", "-p", "find the key", OPENAI_API_KEY=KEY)
    assert proc.returncode == 0, proc.stderr
    body = lime.server.last.body.decode()
    assert "openai_compat:fake" in body  # the file was read by the shell...
    assert KEY not in body  # ...but the key itself was masked
    assert "outside the workspace" in body or "configuration directory" in body
    (path,) = lime.sessions()
    assert KEY not in path.read_text()
