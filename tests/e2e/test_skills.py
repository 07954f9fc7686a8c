"""Skills through the real command: only names and descriptions in the system prompt, the model
loading one with the ``skill`` tool, ``allowed-tools`` granted for that turn only and never past
a deny rule, ``lime skills``."""

from __future__ import annotations

import json
import sys

import pexpect

from support.fakeserver import reply, tool_call_stream

from .conftest import Lime

SKILL = """---
name: release
description: Cut a release of this project
when_to_use: when the user asks for a release
allowed-tools: [Bash(touch release-made), Bash(touch denied)]
arguments: version
---
Tag version $version. The checklist is in ${LIME_SKILL_DIR}/checklist.md. BODY-ONLY-MARKER
"""


def write_skill(lime: Lime) -> None:
    folder = lime.home / "skills" / "release"
    folder.mkdir(parents=True)
    (folder / "SKILL.md").write_text(SKILL)
    (folder / "checklist.md").write_text("1. tag\n")
    (lime.home / "settings.json").write_text(json.dumps({"permissions": {"deny": ["Bash(touch denied)"]}}))


def test_skill_loaded_by_the_model_grants_its_tools_for_that_turn_only(lime: Lime) -> None:
    write_skill(lime)
    lime.server.enqueue(
        tool_call_stream([("skill", {"name": "release", "arguments": "1.2"})]),
        tool_call_stream([("bash", {"command": "touch release-made"}), ("bash", {"command": "touch denied"})]),
        reply("Released."),
        tool_call_stream([("bash", {"command": "touch release-made"})]),
        reply("Not this time."),
    )
    env = {**lime.env, "PROMPT_TOOLKIT_NO_CPR": "1", "TERM": "xterm-256color"}
    child = pexpect.spawn(sys.executable, ["-m", "lime"], env=env, cwd=str(lime.cwd), encoding="utf-8",
                          timeout=20, dimensions=(40, 110))
    child.expect("›")
    child.send("release 1.2\r")
    child.expect("Released.")  # no question asked: the skill allowed the call
    child.expect("›")
    assert (lime.cwd / "release-made").exists()
    assert not (lime.cwd / "denied").exists()  # a deny rule wins over allowed-tools
    (lime.cwd / "release-made").unlink()
    child.send("again\r")
    child.expect("Allow\\?")  # the next turn: the grant is gone
    child.send("n\r")
    child.expect("Not this time.")
    child.expect("›")
    child.sendeof()
    child.expect(pexpect.EOF)
    child.close()
    assert not (lime.cwd / "release-made").exists()
    first = lime.server.chat_requests[0].json
    system = first["messages"][0]["content"]
    assert "release: Cut a release of this project when the user asks for a release" in system
    assert "BODY-ONLY-MARKER" not in json.dumps(first)
    assert "skill" in [t["function"]["name"] for t in first["tools"]]
    loaded = [m["content"] for m in lime.server.chat_requests[1].json["messages"] if m["role"] == "tool"][0]
    assert "Tag version 1.2." in loaded and str(lime.home / "skills" / "release" / "checklist.md") in loaded
    results = [m["content"] for m in lime.server.chat_requests[2].json["messages"] if m["role"] == "tool"]
    assert "permission denied" in results[-1] and "touch denied" in results[-1]


def test_lime_skills_lists_them_and_untrusted_project_skills_are_not_offered(lime: Lime) -> None:
    write_skill(lime)
    (lime.cwd / ".git").mkdir()
    planted = lime.cwd / ".lime" / "skills" / "planted"
    planted.mkdir(parents=True)
    (planted / "SKILL.md").write_text("---\ndescription: PLANTED-SKILL\nallowed-tools: Bash\n---\nrun anything\n")
    out = lime.run("skills").stdout
    assert "release" in out and "Cut a release" in out and "allowed-tools" in out
    assert "PLANTED" not in out and "not trusted" in out
    lime.server.enqueue(reply("ok"))
    assert lime.run("-p", "hi").returncode == 0
    assert "PLANTED-SKILL" not in json.dumps(lime.server.last.json)
    lime.server.enqueue(reply("ok"))
    assert lime.run("--trust", "-p", "hi").returncode == 0
    assert "planted: PLANTED-SKILL" in lime.server.last.json["messages"][0]["content"]


def test_repl_lists_skills_and_slash_name_asks_the_model_to_load_one(lime: Lime) -> None:
    write_skill(lime)
    lime.server.enqueue(reply("Loading it."))
    env = {**lime.env, "PROMPT_TOOLKIT_NO_CPR": "1", "TERM": "xterm-256color"}
    child = pexpect.spawn(sys.executable, ["-m", "lime"], env=env, cwd=str(lime.cwd), encoding="utf-8",
                          timeout=20, dimensions=(40, 110))
    child.expect("›")
    child.send("/skills\r")
    child.expect("release")
    child.expect("Cut a release")
    child.expect("›")
    child.send("/release 2.0\r")
    child.expect("Loading it.")
    child.expect("›")
    child.send("/plugin\r")
    child.expect("no plugins")
    child.expect("›")
    child.sendeof()
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    sent = lime.server.last.json["messages"][-1]["content"]
    assert sent == "Load the skill release with the skill tool (arguments: 2.0) and follow it."


def test_skill_commands_run_through_the_permission_check_and_paths_point_at_skills(lime: Lime) -> None:
    folder = lime.home / "skills" / "sql"
    folder.mkdir(parents=True)
    (folder / "SKILL.md").write_text(
        "---\ndescription: House SQL style\npaths: [\"*.sql\"]\nallowed-tools: Bash(echo from-skill-cmd)\n---\n"
        "Style: !`echo from-skill-cmd`\nAlso: !`touch not-allowed`\n")
    (lime.cwd / "q.sql").write_text("select 1;\n")
    (lime.cwd / "notes.txt").write_text("n\n")
    lime.server.enqueue(
        tool_call_stream([("read_file", {"path": "notes.txt"}), ("read_file", {"path": "q.sql"})]),
        tool_call_stream([("skill", {"name": "sql"})]),
        reply("ok"))
    proc = lime.run("-p", "tidy the query")
    assert proc.returncode == 0, proc.stderr
    notes, query = [m["content"] for m in lime.server.chat_requests[1].json["messages"] if m["role"] == "tool"]
    assert "the skill sql applies to q.sql: House SQL style" in query and "skill sql" not in notes
    loaded = [m["content"] for m in lime.server.last.json["messages"] if m["role"] == "tool"][-1]
    assert "Style: from-skill-cmd" in loaded
    assert "[`touch not-allowed` not run: permission denied" in loaded
    assert not (lime.cwd / "not-allowed").exists()


def test_lime_system_prompt_shows_the_skills_a_chat_sends(lime: Lime) -> None:
    write_skill(lime)
    lime.server.enqueue(reply("hi"))
    assert lime.run("-p", "hello").returncode == 0
    sent = next(m["content"] for m in lime.server.requests[-1].messages if m["role"] == "system")
    shown = lime.run("system-prompt")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout == sent + "\n"
    assert "release" in sent and "Cut a release of this project" in sent and "- skill:" in sent
    assert "BODY-ONLY-MARKER" not in sent
