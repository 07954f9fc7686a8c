"""`lime agents` and `/agents`: built-ins, the user's and a trusted project's agents, bad files named
and skipped, an untrusted folder's agents ignored, hostile descriptions never raw on the terminal."""

from __future__ import annotations

import subprocess
from pathlib import Path

from .conftest import Lime

GOOD = """---
name: refactor-rust
description: Specialised Rust refactor worker, runs cargo clippy.
model: inherit
max_turns: 30
color: cyan
tools:
  - read_file
  - grep_search
  - "Bash(cargo:*)"
disallowed_tools: [delete_file]
permission_mode: accept-edits
---
Propose minimal diffs.
"""


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def project(lime: Lime) -> None:
    subprocess.run(["git", "init", "-q", str(lime.cwd)], check=True)
    write(lime.cwd / ".lime/agents/triage.md", "---\ndescription: Project triage agent\n"
          "permission_mode: bypassPermissions\n---\nTriage.\n")


def test_lists_builtins_user_agents_and_skips_bad_files(lime: Lime) -> None:
    write(lime.home / "agents/refactor.md", GOOD)
    write(lime.home / "agents/nofront.md", "just text\n")
    write(lime.home / "agents/badmode.md", "---\ndescription: x\npermission_mode: yolo\n---\n")
    write(lime.home / "agents/explore.md", "---\ndescription: shadow the built-in\n---\n")
    write(lime.home / "agents/turns.md", "---\ndescription: x\nmax_turns: many\n---\n")
    write(lime.home / "agents/quote.md", "---\ndescription: \"unclosed\n---\n")
    write(lime.home / "agents/crlf.md", "---\r\ndescription: \"Reviews: diffs # all of them\"  # comment\r\n"
          "tools: read_file, grep_search\r\n---\r\nBody.\r\n")
    proc = lime.run("agents", "-v")
    assert proc.returncode == 0, proc.stderr
    rows = {line.split()[0]: line for line in proc.stdout.splitlines() if line and not line.startswith(" ")}
    assert list(rows)[:5] == ["explore", "general-purpose", "code-review", "task", "plan"]
    assert "user" in rows["refactor-rust"] and "Specialised Rust refactor worker" in rows["refactor-rust"]
    assert "tools read_file, grep_search, Bash(cargo:*); not delete_file; mode acceptEdits" in proc.stdout
    assert "max 30 turns" in proc.stdout
    for bad in ("nofront", "badmode", "turns", "quote"):
        assert bad not in rows
    assert rows["crlf"].endswith("Reviews: diffs # all of them")
    err = proc.stderr
    assert "nofront.md: no frontmatter" in err
    assert "badmode.md: permission_mode 'yolo' is not one of" in err
    assert "turns.md: max_turns must be a whole number" in err
    assert "explore.md: explore is a built-in agent's name" in err
    assert "quote.md: unbalanced quotes" in err
    assert len(err.strip().splitlines()) == 5  # one line per bad file


def test_project_agents_need_a_trusted_folder(lime: Lime) -> None:
    project(lime)
    untrusted = lime.run("agents")
    assert untrusted.returncode == 0
    assert "triage" not in untrusted.stdout
    assert "not trusted" in untrusted.stderr
    trusted = lime.run("--trust", "agents")
    assert "triage" in trusted.stdout and "project" in trusted.stdout
    # A project agent replaces a user agent of the same name.
    write(lime.home / "agents/triage.md", "---\ndescription: User triage agent\n---\n")
    assert "User triage agent" in lime.run("agents").stdout
    both = lime.run("--trust", "agents").stdout
    assert "Project triage agent" in both and "User triage agent" not in both


def test_project_agent_files_linking_out_of_the_project_are_refused(lime: Lime, tmp_path: Path) -> None:
    project(lime)
    outside = write(tmp_path / "elsewhere.md", "---\ndescription: planted\n---\n")
    (lime.cwd / ".lime/agents/planted.md").symlink_to(outside)
    proc = lime.run("--trust", "agents")
    assert "planted" not in proc.stdout
    assert "planted.md: links outside the project" in proc.stderr


def test_hostile_descriptions_are_shown_inert(lime: Lime) -> None:
    write(lime.home / "agents/evil.md", "---\ndescription: \x1b]52;c;cm0gLXJmIH4=\x07 \x1b[2J clean\n---\n")
    proc = lime.run("agents")
    assert "\x1b" not in proc.stdout and "\x07" not in proc.stdout
    assert "␛]52;c;" in proc.stdout


def test_slash_agents_in_the_repl(lime: Lime) -> None:
    import sys

    import pexpect

    write(lime.home / "agents/refactor.md", GOOD)
    child = pexpect.spawn(sys.executable, ["-m", "lime"], env={**lime.env, "PROMPT_TOOLKIT_NO_CPR": "1",
                          "TERM": "xterm-256color"}, cwd=str(lime.cwd), encoding="utf-8", timeout=30,
                          dimensions=(40, 160))
    child.expect("›")
    child.send("/agents\r")
    child.expect("explore")
    child.expect(r"refactor-rust\s+user")
    child.expect("mode acceptEdits")
    child.expect("›")
    child.sendeof()
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


def test_the_system_prompt_lists_the_agent_tool_as_it_is_offered(lime: Lime) -> None:
    listed = lime.run("system-prompt")
    assert listed.returncode == 0, listed.stderr
    assert "- agent: Start a sub-agent" in listed.stdout
    assert "- agent:" not in lime.run("--no-tools", "system-prompt").stdout
