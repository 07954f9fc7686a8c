"""Plan mode through the real ``lime`` command: read-only research that ends in a plan the user
approves (the model then carries it out) or rejects with feedback (plan mode stays on); without a
terminal, one-shot plan mode prints the plan and exits 0. The only file plan mode writes is the
session's plan file."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import pexpect

from support.fakeserver import Recorded, reply, tool_call_stream

from .conftest import Lime

PLAN = "# Plan\n1. Create hello.txt saying hi.\n2. Run the tests."
BACK_TAB = "\x1b[Z"  # what a terminal sends for Shift+Tab


def spawn(lime: Lime, *args: str) -> pexpect.spawn:
    env = {**lime.env, "PROMPT_TOOLKIT_NO_CPR": "1", "TERM": "xterm-256color"}
    child = pexpect.spawn(sys.executable, ["-m", "lime", *args], env=env, cwd=str(lime.cwd), encoding="utf-8",
                          timeout=30, dimensions=(40, 110))
    child.expect("›")
    return child


def offered(body: dict[str, Any]) -> set[str]:
    return {t["function"]["name"] for t in body.get("tools", [])}


def plan_path(body: dict[str, Any]) -> str:
    """The plan file, as the model learns it: from exit_plan_mode's description."""
    (desc,) = [t["function"]["description"] for t in body["tools"] if t["function"]["name"] == "exit_plan_mode"]
    m = re.search(r"saved to (\S+\.md);", desc)
    assert m, desc
    return m.group(1)


def mode_shown(child: pexpect.spawn, mode: str) -> None:
    child.send("/permissions\r")
    child.expect(f"permission mode: {mode}")
    child.expect("›")


def test_approved_plan_leaves_plan_mode_and_is_carried_out(lime: Lime) -> None:
    lime.server.enqueue(
        tool_call_stream([("exit_plan_mode", {"plan": PLAN})]),
        tool_call_stream([("write_file", {"path": "hello.txt", "content": "hi\n"})]),
        reply("Done: hello.txt written."),
    )
    child = spawn(lime)
    child.send("/plan\r")
    child.expect("plan mode")
    child.expect("›")
    child.send("make a greeting file\r")
    child.expect("lime has a plan")
    child.expect("Run the tests")
    child.expect("Carry it out\\?")
    child.send("a\r")  # approve, and accept edits from now on
    child.expect("Done: hello.txt written.")
    child.expect("›")
    mode_shown(child, "acceptEdits")
    child.sendeof()
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert (lime.cwd / "hello.txt").read_text() == "hi\n"  # ran unasked: acceptEdits
    first, after, _ = (r.json for r in lime.server.chat_requests)
    assert "write_file" not in offered(first) and "bash" not in offered(first) and "exit_plan_mode" in offered(first)
    assert "write_file" in offered(after) and "exit_plan_mode" not in offered(after)
    assert "approved the plan" in after["messages"][-1]["content"]
    assert Path(plan_path(first)).read_text() == PLAN and Path(plan_path(first)).parent == lime.home / "plans"


def test_rejected_plan_stays_in_plan_mode_with_the_feedback(lime: Lime) -> None:
    lime.server.enqueue(
        tool_call_stream([("exit_plan_mode", {"plan": PLAN}), ("write_file", {"path": "x.txt", "content": "x"})]),
        reply("Revised: I will use greeting.txt."),
    )
    child = spawn(lime, "--permission-mode", "plan")
    child.send("make a greeting file\r")
    child.expect("Carry it out\\?")
    child.send("n\r")
    child.expect("What should change\\?")
    child.send("call it greeting.txt\r")
    child.expect("Revised: I will use greeting.txt.")
    child.expect("›")
    mode_shown(child, "plan")
    # Shift+Tab cycles plan -> default -> acceptEdits -> plan.
    child.send(BACK_TAB)
    mode_shown(child, "default")
    child.send(BACK_TAB)
    child.send(BACK_TAB)
    mode_shown(child, "plan")
    child.send("/plan\r")  # off again: back to the mode plan mode was entered from
    child.expect("plan mode off: permission mode acceptEdits")
    child.expect("›")
    child.sendeof()
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert not (lime.cwd / "x.txt").exists()
    tools = {m["tool_call_id"]: m["content"] for m in lime.server.last.json["messages"] if m["role"] == "tool"}
    plan_result, write_result = tools.values()
    assert "rejected the plan" in plan_result and "call it greeting.txt" in plan_result
    assert "not allowed in plan mode" in write_result  # still plan mode after the rejection


def test_one_shot_plan_mode_prints_the_plan_and_writes_only_the_plan_file(lime: Lime) -> None:
    def research(req: Recorded) -> Any:
        path = plan_path(req.json)
        return tool_call_stream([
            ("write_file", {"path": path, "content": PLAN + "\n"}),  # the plan file: allowed
            ("write_file", {"path": "evil.txt", "content": "x"}),  # anything else: refused
            ("bash", {"command": "touch evil2"}),
            ("edit_file", {"path": path, "old_string": "Run the tests.", "new_string": "Run the tests twice."}),
        ])

    lime.server.enqueue(research, tool_call_stream([("exit_plan_mode", {"plan": ""})]))
    proc = lime.run("--permission-mode", "plan", "-p", "plan a greeting file")
    assert proc.returncode == 0, proc.stderr
    assert "Run the tests twice." in proc.stdout and proc.stdout.startswith("# Plan")
    assert not (lime.cwd / "evil.txt").exists() and not (lime.cwd / "evil2").exists()
    assert "not allowed in plan mode" in proc.stderr
    (plan_file,) = (lime.home / "plans").glob("*.md")
    assert plan_file.read_text().endswith("Run the tests twice.\n")
    assert len(lime.server.chat_requests) == 2  # nobody to approve: the run ends with the plan
    # The same run as JSON: the plan and why it stopped.
    lime.server.enqueue(tool_call_stream([("exit_plan_mode", {"plan": PLAN})]))
    proc = lime.run("--permission-mode", "plan", "--output-format", "json", "-p", "plan it")
    data = json.loads(proc.stdout)
    assert proc.returncode == 0 and data["plan"] == PLAN and data["stopped"] == "plan"


def test_plan_file_rules_cannot_be_bent(lime: Lime) -> None:
    """Only the exact plan file of this session: not a sibling in the plans folder, not via ``..``,
    and not outside plan mode (the config home stays out of the tools' reach)."""
    def attack(req: Recorded) -> Any:
        path = plan_path(req.json)
        folder = path.rsplit("/", 1)[0]
        return tool_call_stream([
            ("write_file", {"path": folder + "/other.md", "content": "x"}),
            ("write_file", {"path": folder + "/../settings.json", "content": "{}"}),
        ])

    lime.server.enqueue(attack, reply("ok"))
    proc = lime.run("--permission-mode", "plan", "-p", "go")
    assert proc.returncode == 0, proc.stderr
    assert not (lime.home / "settings.json").exists() and not list((lime.home / "plans").glob("other.md"))
    # In another mode the plan file is just a path in the config home: refused.
    lime.server.enqueue(tool_call_stream([("write_file", {"path": str(lime.home / "plans" / "p.md"),
                                                          "content": "x"})]), reply("ok"))
    proc = lime.run("--permission-mode", "bypassPermissions", "-p", "go")
    assert proc.returncode == 0 and not (lime.home / "plans" / "p.md").exists()
