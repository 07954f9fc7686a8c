"""Bash permission rules against the ways round them: code hidden where allow rules do not look,
heredocs and continuations bash reads differently from tree-sitter, files written through a
command's own options, git configuration, and deny rules walked round by respelling the program."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from lime.runtime import settings as settings_mod
from lime.runtime.permissions import Policy
from lime.runtime.tools import TOOLS, Workspace

B = TOOLS["bash"]


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return Workspace(tmp_path.resolve())


def policy(mode: str = "default", *, allow: tuple[str, ...] = (), ask: tuple[str, ...] = (),
           deny: tuple[str, ...] = ()) -> Policy:
    s = settings_mod.Settings()
    for kind, texts in (("allow", allow), ("ask", ask), ("deny", deny)):
        s.rules[kind] = [settings_mod.RawRule(t, "user", "user settings") for t in texts]
    return Policy.from_args(mode, False, [], s)


def decide(p: Policy, ws: Workspace, command: str) -> str:
    return p.decide(B, {"command": command}, ws)


ALLOWED = ("Bash(ls:*)", "Bash(git diff:*)", "Bash(git status:*)", "Bash(echo:*)", "Bash(cat:*)", "Bash(sort:*)")


@pytest.mark.parametrize("command", [
    'ls "${x:-`touch PWNED`}"', "ls ${x:-`touch PWNED`}", 'echo "${x:=$(touch PWNED)}"', "ls ${x[`touch P`]}",
    "git status ${x/a/`touch P`}", "echo $[1+`touch P`]", "ls \"$(printf '%s' `touch P`)\"",
    "cat <<X\n`touch PWNED`\nX", "cat <<X\n$(touch PWNED)\nX", "cat <<X\n${x:-`touch P`}\nX",
    "echo ok # `x`\ntouch P",
])
def test_code_anywhere_in_a_word_asks(command: str, ws: Workspace) -> None:
    assert decide(policy(allow=ALLOWED), ws, command) == "ask"


@pytest.mark.parametrize("command", [
    "git diff <<'X'\n\\\nX\ntouch PWNED\nX",  # tree-sitter joins the lone `\` to the terminator line
    "git diff <<X\n\\\nX\ntouch PWNED\nX",
    "git diff <<'X'\nX \ntouch PWNED\nX",  # a delimiter with a trailing space ends nothing in bash
    "cat <<'X'\nhi\n X\ntouch PWNED\nX",
    "git diff <<X; touch PWNED\nX",
    "git diff <<'X'",  # no end line
    "git diff \\\n; touch PWNED", "ls \\\n-la",
    "git diff > out --output=.git/config",
])
def test_lines_bash_reads_differently_ask(command: str, ws: Workspace) -> None:
    assert decide(policy(allow=ALLOWED), ws, command) == "ask"


def test_plain_commands_and_quoted_heredocs_still_run_unasked(ws: Workspace) -> None:
    p = policy(allow=ALLOWED)
    for cmd in ["ls -la", "git diff --stat", "echo 'a `b` $(c)'", "cat <<'X'\n$(not run) `nor this`\nX",
                "cat <<'X' > notes.txt\nhi\nX", "git diff --output=patch.diff", "sort -o sorted.txt in.txt",
                "echo $'tab\\there'"]:
        assert decide(p, ws, cmd) == "allow", cmd


@pytest.mark.parametrize("command", [
    "git diff --no-index --name-only -z --output=.git/config a b", "git diff --output .git/config",
    "git diff --outp=.git/config", "git diff --output=AGENTS.md", "git diff --output=.github/workflows/ci.yml",
    "git diff --output=.lime/settings.local.json", "sort -o .git/hooks/pre-commit x", "sort -o.git/config x",
    "echo x | tee .git/config", "ls --output-file=.bashrc",
])
def test_write_options_to_protected_paths_ask_and_are_refused_in_dontask(command: str, ws: Workspace) -> None:
    assert decide(policy(allow=ALLOWED), ws, command) == "ask"
    assert decide(policy("dontAsk"), ws, command) == "deny"
    assert decide(policy("bypassPermissions"), ws, command) == "allow"


@pytest.mark.parametrize("command", ["git diff --output=/tmp/elsewhere", "git diff -o ../out", "sort -o ~/x y",
                                     "echo x | tee ../y"])
def test_write_options_outside_the_workspace_ask(command: str, ws: Workspace) -> None:
    assert decide(policy(allow=ALLOWED), ws, command) == "ask"


@pytest.mark.parametrize("command", [
    "git config core.fsmonitor 'touch PWNED'", "git config core.hooksPath .hooks", "git config core.pager x",
    "git config --add alias.st '!touch P'", "git -c core.pager='touch P' log", "git -c diff.external=x diff",
    "git --config-env=core.pager=X log", "GIT_EXTERNAL_DIFF=x git diff", "env GIT_PAGER=x git log",
    "git config set core.editor x", "if true; then git config core.pager x; fi", "sh -c 'git config core.pager x'",
])
def test_git_configuration_never_changes_silently(command: str, ws: Workspace) -> None:
    assert decide(policy("dontAsk"), ws, command) == "deny"
    assert decide(policy(allow=(*ALLOWED, "Bash(git:*)", "Bash(env:*)")), ws, command) == "ask"


def test_reading_git_configuration_is_fine(ws: Workspace) -> None:
    for cmd in ["git config --get core.pager", "git config -l", "git config --list --show-origin"]:
        assert decide(policy("dontAsk"), ws, cmd) == "allow", cmd


@pytest.mark.parametrize("command", [
    "rm -rf x", "/bin/rm -rf x", "\\rm x", 'r""m x', "r\\m x", "'rm' x", '"r"m x', "$'\\x72m' x", "$'rm' x",
    "sh -c 'r''m x'", "bash -c \"rm x\"", "sh -ec 'true; rm x'", "eval rm x", "if true; then rm x; fi",
    "for f in a; do rm $f; done", "while false; do rm x; done", "f() { rm x; }; f", "command rm x",
    "builtin command rm x", "exec rm x", "env A=1 rm x", "env -i rm x", "nice -n 5 rm x", "nohup rm x",
    "timeout -s KILL 5 rm x", "echo x | xargs -0 rm -f", "sudo -u root rm x", "sudo nice rm x", "busybox rm x",
    "find . -name x -exec rm {} ;", "(rm x)", "{ rm x; }", "ls | rm x", "ls $(rm x)", "true && \\\nrm x",
    "time rm x", "stdbuf -o0 rm x",
])
def test_deny_rules_see_the_program_really_run(command: str, ws: Workspace) -> None:
    for mode in ("default", "dontAsk", "bypassPermissions"):
        assert decide(policy(mode, deny=("Bash(rm:*)",)), ws, command) == "deny", (mode, command)


@pytest.mark.parametrize("command", [
    "rm${IFS}-rf${IFS}x", "x=rm; $x x", "$x x", "${x} y", "r*m x", "/bin/r? x", "{rm,-rf,x}", "eval 'r''m x'",
    "eval \"$x\"", "source ./script", ". ./script", "sh -c \"$x\"", "sh ./script", "echo ls x | sh",
    "bash <<'X'\nls\nX", "f() { ls; }; f", "alias x=ls", "hash -p /bin/rm ls; ls x", "trap 'ls' EXIT",
    "env -S 'ls x'", "x='a[$(ls y)]'; echo $((x))", "declare -a 'x=([0]=$(ls))'", "ls > f x y",
    "sudo $x", "xargs $x", "read x <<'E'\na[$(ls y)]\nE\necho $((x))", "read x < f; (( x ))", "let x", "[[ x -eq 1 ]]",
    "echo ${a[x]}",
])
def test_what_a_deny_rule_cannot_see_asks_and_is_refused_in_bypass(command: str, ws: Workspace) -> None:
    for mode in ("default", "dontAsk", "acceptEdits"):
        assert decide(policy(mode, deny=("Bash(rm:*)",)), ws, command) == "ask", (mode, command)
    assert decide(policy("bypassPermissions", deny=("Bash(rm:*)",)), ws, command) == "deny"
    # An ask rule needs the same: the user decides.
    assert decide(policy("dontAsk", ask=("Bash(git push:*)",)), ws, command) == "ask"
    # Without deny or ask rules for bash there is nothing to check them against.
    assert decide(policy("dontAsk"), ws, command) == "allow" or "protected" in policy("dontAsk").check(
        B, {"command": command}, ws).reason


def test_deny_rules_keep_their_words_and_leave_other_commands_alone(ws: Workspace) -> None:
    p = policy("dontAsk", deny=("Bash(git push:*)",))
    for cmd in ["git push", "git -C . push origin", "git -c x=y push", "\\git 'push'", "/usr/bin/git push -f"]:
        assert decide(p, ws, cmd) == "deny", cmd
    for cmd in ["git status", "git pushx", "git log --grep push", "rmdir x"]:
        assert decide(p, ws, cmd) == "allow", cmd
    assert decide(policy("dontAsk", deny=("Bash(rm:*)",)), ws, "rmdir x; echo rm") == "deny"  # by its words
    assert decide(policy("dontAsk", deny=("Bash(rm:*)",)), ws, "rmdir x; ls -l") == "allow"
    # A computed word where the rule's words are cannot be matched either way.
    for cmd in ["git $x origin", "git -C . \"$sub\"", "sudo git $(echo push)"]:
        assert decide(p, ws, cmd) == "ask", cmd
    for cmd in ["git log $x", "rm $x", "echo $x"]:
        assert decide(p, ws, cmd) == "allow", cmd


def test_quoted_heredoc_bodies_are_data(ws: Workspace) -> None:
    p = policy("dontAsk", deny=("Bash(rm:*)",))
    assert decide(p, ws, "cat <<'EOF' > notes.md\nrun `this` and $(that)\nEOF") == "allow"
    assert decide(p, ws, "echo ${a[1]} ${x:-y}") == "allow"
    assert decide(p, ws, "echo ${a[$i]}") == "ask"


def test_the_reason_names_the_rule_and_what_it_cannot_see(ws: Workspace) -> None:
    verdict = policy("dontAsk", deny=("Bash(rm:*)",)).check(B, {"command": "x=rm; $x -rf y"}, ws)
    assert verdict.decision == "ask"
    assert "'Bash(rm:*)'" in verdict.reason and "not a plain word" in verdict.reason


def _all_decisions(ws: Workspace) -> list[Any]:
    p = policy("dontAsk", deny=("Bash(rm:*)",))
    return [decide(p, ws, c) for c in ["rm x", "ls", "$x y", "r''m z"]]


def test_decisions_do_not_depend_on_what_was_checked_before(ws: Workspace) -> None:
    first = _all_decisions(ws)
    decide(policy(allow=ALLOWED), ws, "git diff <<'X'\n\\\nX\ntouch PWNED\nX")
    assert _all_decisions(ws) == first == ["deny", "allow", "ask", "deny"]
