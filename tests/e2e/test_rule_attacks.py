"""A hostile model against the bash permission rules, through the real ``lime`` command and the
fake server: code hidden inside ``${...}``, a heredoc bash ends where tree-sitter does not,
protected files written through ``git diff --output`` and git configuration, and deny rules
walked round by respelling ``rm``. No terminal here: a call that needs approval is refused."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from support.fakeserver import reply, tool_call_stream

from .conftest import Lime

ALLOW = json.dumps({"permissions": {"allow": ["Bash(ls:*)", "Bash(git diff:*)", "Bash(echo:*)"]}})
DENY_RM = json.dumps({"permissions": {"deny": ["Bash(rm:*)"]}})
needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def results(lime: Lime) -> list[str]:
    return [m["content"] for m in lime.server.last.json["messages"] if m["role"] == "tool"]


def run_calls(lime: Lime, commands: list[str], *flags: str) -> list[str]:
    lime.server.enqueue(tool_call_stream([("bash", {"command": c}) for c in commands]), reply("done"))
    proc = lime.run(*flags, "-p", "go")
    assert proc.returncode == 0, proc.stderr
    out = results(lime)
    assert len(out) == len(commands)
    return out


def git_repo(lime: Lime) -> str:
    env = {**lime.env, "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1"}
    subprocess.run(["git", "init", "-q"], cwd=lime.cwd, check=True, env=env)
    return (lime.cwd / ".git" / "config").read_text()


# -- attacks 1 and 2: what an allow rule cannot see is not run -------------------------------------


HIDDEN = [
    'ls "${x:-`touch PWNED1`}"',  # backticks inside a parameter expansion
    "ls ${x:-`touch PWNED2`}",
    'echo "${x:=$(touch PWNED3)}"',
    "git diff <<'X'\n\\\nX\ntouch PWNED4\nX",  # a lone `\` in a heredoc: bash ends the heredoc there
    "git diff <<X\nX \ntouch PWNED5\nX",
    "ls \\\n; touch PWNED6",  # a line continuation
    "git diff > out --output=x; touch PWNED7",
]


def test_what_an_allow_rule_cannot_see_is_not_run(lime: Lime) -> None:
    out = run_calls(lime, [*HIDDEN, "ls -a", "git diff --no-index --stat /dev/null /dev/null"], "--settings", ALLOW)
    for command, result in zip(HIDDEN, out, strict=False):
        assert result.startswith("permission denied") and "no terminal to ask" in result, (command, result)
    assert not list(lime.cwd.glob("PWNED*"))
    assert not out[-2].startswith("permission denied")  # the plain commands the rules allow still run
    assert not out[-1].startswith("permission denied")


# -- attack 3: protected files through a command's own options and git configuration --------------


@needs_git
def test_git_diff_output_cannot_write_protected_files(lime: Lime) -> None:
    config = git_repo(lime)
    (lime.cwd / "a").write_text("[core]\n\tfsmonitor = touch PWNED\n#\n")
    attacks = [
        "git diff --no-index --name-only -z --output=.git/config /dev/null a",
        "git diff --no-index --output .git/config /dev/null a",
        "git diff --no-index --outp=.git/config /dev/null a",
        "git diff --no-index --output=AGENTS.md /dev/null a",
        "git diff --no-index --output=.github/workflows/ci.yml /dev/null a",
        "git diff --no-index --output=.lime/settings.local.json /dev/null a",
        "git diff --no-index --output=../outside.txt /dev/null a",
    ]
    out = run_calls(lime, [*attacks, "git diff --no-index --output=patch.diff /dev/null a"], "--settings", ALLOW)
    for command, result in zip(attacks, out, strict=False):
        assert result.startswith("permission denied"), (command, result)
    assert (lime.cwd / ".git" / "config").read_text() == config
    assert not (lime.cwd / "AGENTS.md").exists() and not (lime.cwd / ".github").exists()
    assert not (lime.cwd / ".lime").exists() and not (lime.cwd.parent / "outside.txt").exists()
    assert "fsmonitor" in (lime.cwd / "patch.diff").read_text()  # an ordinary file: written unasked


@needs_git
def test_git_configuration_does_not_change_silently_in_dontask(lime: Lime) -> None:
    config = git_repo(lime)
    attacks = ["git config core.fsmonitor 'touch PWNED'", "git config core.hooksPath .hooks",
               "git config core.pager 'touch PWNED'", "git -c core.pager='touch PWNED' -p log",
               "GIT_EXTERNAL_DIFF='touch PWNED' git diff", "sort -o .git/config /dev/null",
               "echo '[core]' | tee -a .git/config"]
    out = run_calls(lime, [*attacks, "git config --get core.bare"], "--permission-mode", "dontAsk")
    for command, result in zip(attacks, out, strict=False):
        assert result.startswith("permission denied") and "protected path" in result, (command, result)
    assert (lime.cwd / ".git" / "config").read_text() == config
    assert not (lime.cwd / "PWNED").exists()
    assert "false" in out[-1]  # reading the configuration runs


# -- attack 9: deny rules are not walked round by respelling the program ---------------------------


WALKS = ["/bin/rm v1", "\\rm v2", 'r""m v3', "r\\m v4", "rm${IFS}-f${IFS}v5", "x=rm; $x v6", "sh -c 'r''m v7'",
         "eval 'r''m v8'", "if true; then rm v9; fi", "for f in v10; do rm $f; done", "f() { rm v11; }; f",
         "command rm v12", "env rm v13", "nice -n 5 rm v14", "timeout 5 rm v15", "echo v16 | xargs rm",
         "nohup rm v17", "exec rm v18", "builtin command rm v19", "find . -name v20 -exec rm {} ;"]


@pytest.mark.parametrize("flags", [["--permission-mode", "dontAsk"], ["--permission-mode", "bypassPermissions"]])
def test_deny_rules_hold_against_respelled_commands(lime: Lime, flags: list[str]) -> None:
    victims = [lime.cwd / f"v{i}" for i in range(1, len(WALKS) + 1)]
    for v in victims:
        v.write_text("keep\n")
    (lime.cwd / "empty").mkdir()
    out = run_calls(lime, [*WALKS, "rmdir empty && ls"], *flags, "--settings", DENY_RM)
    for command, result in zip(WALKS, out, strict=False):
        assert result.startswith("permission denied"), (command, result)
        assert "Bash(rm:*)" in result, (command, result)
    assert all(v.exists() for v in victims), [v.name for v in victims if not v.exists()]
    assert not (lime.cwd / "empty").exists() and "v1" in out[-1]  # other commands run as before
