"""Custom slash commands through the real command: files, placeholders, trust, shadowing,
``lime command`` and the REPL."""

from __future__ import annotations

import sys
from pathlib import Path

import pexpect

from support.fakeserver import reply

from .conftest import Lime


def last_prompt(lime: Lime) -> str:
    return str([m for m in lime.server.last.json["messages"] if m["role"] == "user"][-1]["content"])


def test_create_list_show_and_run_with_placeholders(lime: Lime) -> None:
    body = "Review {ARG1} with a focus on {ARG2}.\nAll arguments: {ARGS}\n"
    proc = lime.run("command", "create", "review", "--description", "Review a file", "--argument-hint",
                    "FILE FOCUS", input=body)
    assert proc.returncode == 0, proc.stderr
    path = lime.home / "commands" / "review.md"
    assert path.read_text() == ("---\ndescription: Review a file\nargument-hint: FILE FOCUS\n---\n" + body)
    listed = lime.run("command", "list").stdout
    assert "/review" in listed and "Review a file" in listed and "user" in listed
    assert "Review {ARG1}" in lime.run("command", "show", "review").stdout
    lime.server.enqueue(reply("looks fine"))
    proc = lime.run("-p", '/review src/app.py "error handling"')
    assert proc.returncode == 0, proc.stderr
    assert last_prompt(lime) == ("Review src/app.py with a focus on error handling.\n"
                                 'All arguments: src/app.py "error handling"')
    # No placeholder: the arguments are appended.
    (lime.home / "commands" / "explain.md").write_text("Explain this code simply.\n")
    lime.server.enqueue(reply("ok"))
    assert lime.run("-p", "/explain main.py").returncode == 0
    assert last_prompt(lime) == "Explain this code simply.\n\nmain.py"
    # Not a command: sent as typed.
    lime.server.enqueue(reply("ok"))
    assert lime.run("-p", "/etc/hosts: what is it?").returncode == 0
    assert last_prompt(lime) == "/etc/hosts: what is it?"


def test_edit_normalises_frontmatter_and_delete_removes(lime: Lime, tmp_path: Path) -> None:
    (lime.home / "commands").mkdir(parents=True)
    (lime.home / "commands" / "fix.md").write_text("---\nDescription:   Fix   it  \n---\nFix {ARGS}\n")
    editor = tmp_path / "editor.sh"
    editor.write_text('#!/bin/sh\nprintf "and add a test.\\n" >> "$1"\n')
    editor.chmod(0o755)
    proc = lime.run("command", "edit", "fix", EDITOR=str(editor))
    assert proc.returncode == 0, proc.stderr
    assert (lime.home / "commands" / "fix.md").read_text() == "---\ndescription: Fix it\n---\nFix {ARGS}\nand add a test.\n"
    bad = lime.run("command", "create", "../evil", input="x")
    assert bad.returncode != 0 and "not valid" in bad.stderr
    assert lime.run("command", "delete", "fix").returncode == 0
    assert not (lime.home / "commands" / "fix.md").exists()
    gone = lime.run("command", "show", "fix")
    assert gone.returncode != 0 and "no custom command /fix" in gone.stderr


def test_project_commands_need_trust_and_builtins_shadow(lime: Lime) -> None:
    (lime.cwd / ".git").mkdir()
    (lime.cwd / ".lime" / "commands").mkdir(parents=True)
    (lime.cwd / ".lime" / "commands" / "deploy.md").write_text("Run the deploy checklist for {ARG1}.\n")
    lime.server.enqueue(reply("ok"), reply("ok"))
    assert lime.run("-p", "/deploy staging").returncode == 0
    assert last_prompt(lime) == "/deploy staging"  # untrusted folder: not a command
    assert lime.run("--trust", "-p", "/deploy staging").returncode == 0
    assert last_prompt(lime) == "Run the deploy checklist for staging."
    (lime.home / "commands").mkdir(parents=True)
    (lime.home / "commands" / "status.md").write_text("custom status\n")
    lime.server.enqueue(reply("ok"))
    proc = lime.run("-p", "hello")
    assert "/status is a built-in command: the custom command of that name is not used" in proc.stderr
    assert "shadowed by the built-in command" in lime.run("command", "list").stdout


def test_repl_lists_and_runs_custom_commands(lime: Lime) -> None:
    (lime.home / "commands").mkdir(parents=True)
    (lime.home / "commands" / "greet.md").write_text("---\ndescription: Say hello\n---\nSay hello to {ARG1}.\n")
    lime.server.enqueue(reply("Hello, Ada!"))
    env = {**lime.env, "PROMPT_TOOLKIT_NO_CPR": "1", "TERM": "xterm-256color"}
    child = pexpect.spawn(sys.executable, ["-m", "lime"], env=env, cwd=str(lime.cwd), encoding="utf-8",
                          timeout=30, dimensions=(40, 110))
    child.expect("›")
    child.send("/commands\r")
    child.expect("/greet")
    child.expect("Say hello")
    child.expect("›")
    child.send("/greet Ada\r")
    child.expect("Hello, Ada!")
    child.expect("›")
    child.sendeof()
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert last_prompt(lime) == "Say hello to Ada."


def test_every_repl_command_shadows_a_custom_one() -> None:
    from lime.cli.custom_commands import BUILTINS
    from lime.cli.repl import COMMANDS

    assert set(COMMANDS) <= BUILTINS
