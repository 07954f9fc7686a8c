"""Hooks through the real command: PreToolUse control (deny, rewrite, ask), a formatter after
every edit, the trust gate, deadlines, and each event firing once where it should."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from support.fakeserver import reply, tool_call_stream

from .conftest import Lime

RUFF = Path(sys.executable).parent / "ruff"


def hooks(lime: Lime, data: dict[str, Any], **extra: Any) -> None:
    lime.home.mkdir(exist_ok=True)
    (lime.home / "settings.json").write_text(json.dumps({"hooks": data, **extra}))


def tool_results(lime: Lime) -> list[str]:
    return [m["content"] for m in lime.server.last.json["messages"] if m["role"] == "tool"]


def bash(command: str) -> tuple[str, dict[str, str]]:
    return ("bash", {"command": command})


def test_pre_tool_use_hook_denies_rm_with_its_reason(lime: Lime) -> None:
    (lime.cwd / "keep.txt").write_text("precious\n")
    guard = 'case "$HOOK_TOOL_INPUT" in *"rm "*) echo "no rm in this repository" >&2; exit 2;; esac'
    hooks(lime, {"PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": guard}]}]})
    lime.server.enqueue(tool_call_stream([bash("rm -f keep.txt"), bash("echo still-here")]), reply("ok"))
    proc = lime.run("--permission-mode", "bypassPermissions", "-p", "clean up")
    assert proc.returncode == 0, proc.stderr
    assert (lime.cwd / "keep.txt").exists()
    denied, ran = tool_results(lime)
    assert "permission denied: no rm in this repository" in denied
    assert "still-here" in ran
    assert "refused bash: no rm in this repository" in proc.stderr


def test_a_rewritten_input_is_checked_by_the_rules_again(lime: Lime) -> None:
    rewrite = """echo '{"input": {"command": "touch pwned"}}'"""
    hooks(lime, {"PreToolUse": [rewrite]}, permissions={"allow": ["Bash(echo ok:*)"]})
    lime.server.enqueue(tool_call_stream([bash("echo ok")]), reply("done"))
    proc = lime.run("-p", "go")  # default mode: only `echo ok` runs without asking
    assert proc.returncode == 0, proc.stderr
    assert not (lime.cwd / "pwned").exists()
    assert "permission denied" in tool_results(lime)[0]
    assert "a PreToolUse hook changed the bash call's input" in proc.stderr
    # Even "allow" from the hook cannot loosen a deny rule.
    allow = """echo '{"decision": "allow", "input": {"command": "touch pwned"}}'"""
    hooks(lime, {"PreToolUse": [allow]}, permissions={"deny": ["Bash(touch:*)"]})
    lime.server.enqueue(tool_call_stream([bash("echo ok")]), reply("done"))
    proc = lime.run("--permission-mode", "bypassPermissions", "-p", "go")
    assert not (lime.cwd / "pwned").exists() and "permission denied" in tool_results(lime)[0]
    # A rewrite the rules allow runs as rewritten.
    hooks(lime, {"PreToolUse": ["""echo '{"input": {"command": "echo rewritten-by-hook"}}'"""]})
    lime.server.enqueue(tool_call_stream([bash("echo original")]), reply("done"))
    proc = lime.run("--permission-mode", "bypassPermissions", "-p", "go")
    assert proc.returncode == 0, proc.stderr
    assert "rewritten-by-hook" in tool_results(lime)[0] and "original" not in tool_results(lime)[0]


def test_a_hook_that_asks_turns_an_allowed_call_into_a_question(lime: Lime) -> None:
    hooks(lime, {"PreToolUse": ["""echo '{"decision": "ask", "reason": "check this one"}'"""]})
    lime.server.enqueue(tool_call_stream([bash("touch made")]), reply("done"))
    proc = lime.run("--permission-mode", "bypassPermissions", "-p", "go")  # nobody to ask: refused
    assert proc.returncode == 0, proc.stderr
    assert not (lime.cwd / "made").exists()
    assert "permission denied" in tool_results(lime)[0]


def test_post_tool_use_formatter_runs_after_every_edit(lime: Lime) -> None:
    fmt = f"{RUFF} format -q \"$(python3 -c 'import json,sys; print(json.load(sys.stdin)[\"tool_input\"][\"path\"])')\""
    hooks(lime, {"PostToolUse": [{"matcher": "write_file|edit_file", "hooks": [{"command": fmt}]},
                                 {"matcher": "write_file", "hooks": ["echo formatted-note"]}]})
    lime.server.enqueue(
        tool_call_stream([("write_file", {"path": "m.py", "content": "x=1\ny = [1,2]\n"})]),
        tool_call_stream([("edit_file", {"path": "m.py", "old_string": "y = [1, 2]", "new_string": "z={'a':1}"})]),
        reply("done"))
    proc = lime.run("--permission-mode", "acceptEdits", "-p", "write it")
    assert proc.returncode == 0, proc.stderr
    assert (lime.cwd / "m.py").read_text() == 'x = 1\nz = {"a": 1}\n'
    assert "formatted-note" in tool_results(lime)[0]  # a hook's output is added to what the model reads


def test_hooks_of_an_untrusted_folder_never_run(lime: Lime) -> None:
    (lime.cwd / ".git").mkdir()
    (lime.cwd / ".lime").mkdir()
    marker = lime.cwd.parent / "marker"
    planted = {"hooks": {"SessionStart": [f"touch {marker}"], "PreToolUse": [f"touch {marker}"]}}
    (lime.cwd / ".lime" / "settings.json").write_text(json.dumps(planted))
    lime.server.enqueue(tool_call_stream([("read_file", {"path": ".lime/settings.json"})]), reply("ok"))
    proc = lime.run("-p", "hi")
    assert proc.returncode == 0, proc.stderr
    assert not marker.exists()
    assert "not trusted" in proc.stderr
    # A local file that git tracks came with the clone: project scope, also only when trusted.
    (lime.cwd / ".lime" / "settings.json").unlink()
    (lime.cwd / ".lime" / "settings.local.json").write_text(json.dumps(planted))
    subprocess.run(["git", "init", "-q"], cwd=lime.cwd, check=True)
    subprocess.run(["git", "add", "-f", ".lime/settings.local.json"], cwd=lime.cwd, check=True)
    lime.server.enqueue(reply("ok"))
    assert lime.run("-p", "hi").returncode == 0
    assert not marker.exists()
    lime.server.enqueue(reply("ok"))
    proc = lime.run("--trust", "-p", "hi")
    assert proc.returncode == 0, proc.stderr
    assert "read " in proc.stderr and "as project settings" in proc.stderr
    assert marker.exists()  # trusted: it runs


def test_a_hanging_or_failing_hook_is_one_line(lime: Lime) -> None:
    hooks(lime, {"PreToolUse": [{"hooks": [{"command": "sleep 30", "timeout": 1}]}],
                 "PostToolUse": ["echo boom >&2; exit 1"]})
    lime.server.enqueue(tool_call_stream([bash("echo alive")]), reply("fine"))
    start = time.monotonic()
    proc = lime.run("--permission-mode", "bypassPermissions", "-p", "go")
    assert time.monotonic() - start < 15
    assert proc.returncode == 0, proc.stderr
    assert "alive" in tool_results(lime)[0]
    lines = proc.stderr.splitlines()
    assert sum("did not finish in 1 s; killed it" in line for line in lines) == 1
    assert sum("failed (exit 1): boom" in line for line in lines) == 1
    assert proc.stdout.strip() == "fine"


def test_user_prompt_submit_adds_context_or_blocks(lime: Lime) -> None:
    hooks(lime, {"UserPromptSubmit": ["echo 'Ticket: LIME-42'"]})
    lime.server.enqueue(reply("ok"))
    assert lime.run("-p", "fix it").returncode == 0
    assert "Ticket: LIME-42" in lime.server.last.json["messages"][-1]["content"]
    hooks(lime, {"UserPromptSubmit": ["echo 'no secrets in prompts' >&2; exit 2"]})
    before = len(lime.server.requests)
    proc = lime.run("-p", "here is my password")
    assert proc.returncode == 1
    assert "prompt blocked by a UserPromptSubmit hook: no secrets in prompts" in proc.stderr
    assert len(lime.server.requests) == before


def test_each_event_fires_once_where_it_should(lime: Lime, tmp_path: Path) -> None:
    log = tmp_path / "events.log"
    record = f'echo "$HOOK_EVENT ${{HOOK_TOOL_NAME:-}} ${{HOOK_TOOL_IS_ERROR:-}}" >> {log}'
    events = ["SessionStart", "SessionEnd", "UserPromptSubmit", "PreToolUse", "PostToolUse", "PostToolUseFailure",
              "PreCompact", "PostCompact", "PermissionRequest", "PermissionDenied", "Stop", "Notification"]
    hooks(lime, {e: [record] for e in events})
    (lime.cwd / "a.txt").write_text("A\n")
    lime.server.enqueue(tool_call_stream([("read_file", {"path": "a.txt"}), ("read_file", {"path": "nope.txt"}),
                                          bash("touch x")]), reply("done"))
    proc = lime.run("-p", "go")
    assert proc.returncode == 0, proc.stderr
    seen = [line.strip() for line in log.read_text().splitlines()]
    assert seen == ["SessionStart", "UserPromptSubmit",
                    "PreToolUse read_file", "PostToolUse read_file 0",
                    "PreToolUse read_file", "PostToolUseFailure read_file 1",
                    "PreToolUse bash", "PermissionRequest bash", "PermissionDenied bash", "Notification",
                    "SessionEnd"], seen


def test_the_trust_question_lists_the_hooks_and_no_means_they_never_run(lime: Lime) -> None:
    import pexpect

    (lime.cwd / ".git").mkdir()
    (lime.cwd / ".lime").mkdir()
    marker = lime.cwd.parent / "marker"
    (lime.cwd / ".lime" / "settings.json").write_text(json.dumps({"hooks": {"SessionStart": [f"touch {marker}"]}}))
    lime.server.enqueue(reply("hello"))
    child = pexpect.spawn(sys.executable, ["-m", "lime", "-p", "hi"], env={**lime.env, "TERM": "xterm"},
                          cwd=str(lime.cwd), encoding="utf-8", timeout=30, dimensions=(40, 200))
    child.expect("run 1 hook command on this machine: SessionStart: touch")
    child.expect("Trust this folder")
    child.send("n\r")
    child.expect("hello")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert not marker.exists()


def test_compaction_and_cancel_events_fire_once_in_the_repl(lime: Lime, tmp_path: Path) -> None:
    import pexpect

    from support.fakeserver import text_stream

    log = tmp_path / "events.log"
    record = f'echo "$HOOK_EVENT" >> {log}'
    hooks(lime, {e: [record] for e in ("PreCompact", "PostCompact", "Stop", "SessionStart", "SessionEnd")})
    lime.server.enqueue(reply("Hi."), text_stream("word " * 300, chunks=300, delay=0.03))
    env = {**lime.env, "PROMPT_TOOLKIT_NO_CPR": "1", "TERM": "xterm-256color"}
    child = pexpect.spawn(sys.executable, ["-m", "lime"], env=env, cwd=str(lime.cwd), encoding="utf-8",
                          timeout=30, dimensions=(40, 110))
    child.expect("›")
    child.send("hello\r")
    child.expect("Hi.")
    child.expect("›")
    child.send("/compact\r")
    child.expect("›")
    child.send("tell me a long story\r")
    child.expect("word word")
    child.sendintr()
    child.expect("cancelled")
    child.expect("›")
    child.sendeof()
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert log.read_text().split() == ["SessionStart", "PreCompact", "PostCompact", "Stop", "SessionEnd"]
