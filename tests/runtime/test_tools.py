"""Built-in tools: what the model gets back, and what it can never touch."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from lime.runtime.tools import TOOLS, ToolResult, Workspace, lookup, parse_arguments, run_tool


def call(ws: Workspace, name: str, **args: object) -> ToolResult:
    tool = lookup(name)
    assert tool is not None, name
    return run_tool(tool, ws, dict(args))


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    root = tmp_path / "proj"
    root.mkdir()
    (root / "a.txt").write_text("".join(f"line {i}\n" for i in range(1, 11)))
    (root / "src").mkdir()
    (root / "src" / "m.py").write_text("def f():\n    return 1\n")
    return Workspace.create(root)


def test_read_with_line_ranges(ws: Workspace) -> None:
    r = call(ws, "read_file", path="a.txt", start_line=3, end_line=4)
    assert r.ok and r.content.splitlines()[:2] == ["3\tline 3", "4\tline 4"]
    assert "lines 3-4 of 10" in r.content
    assert call(ws, "read_file", path="a.txt", start_line=20).status == "error"
    assert "no such file" in call(ws, "read_file", path="missing.txt").content


def test_paths_outside_the_workspace_are_refused_even_through_symlinks(ws: Workspace, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("top secret")
    (ws.cwd / "link").symlink_to(secret)
    for path in ("../secret.txt", str(secret), "link"):
        r = call(ws, "read_file", path=path)
        assert r.status == "error" and "outside the workspace" in r.content and "top secret" not in r.content
    r = call(ws, "write_file", path="../evil.txt", content="x")
    assert r.status == "error" and not (tmp_path / "evil.txt").exists()


def test_add_dir_extends_the_workspace(ws: Workspace, tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    (other / "o.txt").write_text("hello\n")
    wider = Workspace.create(ws.cwd, [str(other)])
    assert call(wider, "read_file", path=str(other / "o.txt")).ok
    assert call(ws, "read_file", path=str(other / "o.txt")).status == "error"


def test_write_and_edit(ws: Workspace) -> None:
    assert call(ws, "write_file", path="new/dir/x.txt", content="alpha beta\nbeta\n").content.startswith("created")
    r = call(ws, "edit_file", path="new/dir/x.txt", old_string="beta", new_string="gamma")
    assert r.status == "error" and "occurs 2 times" in r.content
    assert call(ws, "edit_file", path="new/dir/x.txt", old_string="alpha beta", new_string="alpha gamma").ok
    assert (ws.cwd / "new/dir/x.txt").read_text() == "alpha gamma\nbeta\n"
    assert call(ws, "edit_file", path="new/dir/x.txt", old_string="nothere", new_string="y").status == "error"
    assert call(ws, "edit_file", path="new/dir/x.txt", old_string="a", new_string="o", replace_all=True).ok
    assert (ws.cwd / "new/dir/x.txt").read_text() == "olpho gommo\nbeto\n"


def test_list_glob_and_grep(ws: Workspace) -> None:
    listing = call(ws, "glob_search").content.splitlines()
    assert listing == ["src/", "a.txt"]
    assert call(ws, "list_files", pattern="**/*.py").content == "src/m.py"
    hits = call(ws, "grep_search", pattern=r"return \d").content
    assert hits == "src/m.py:2:    return 1"
    assert call(ws, "grep", pattern="LINE 7", ignore_case=True, glob="*.txt").content == "a.txt:7:line 7"
    assert call(ws, "grep", pattern="(").status == "error"


def test_shell_runs_in_the_workspace_with_timeout_and_cap(ws: Workspace) -> None:
    r = call(ws, "bash", command="pwd; echo err >&2; exit 3")
    assert str(ws.cwd) in r.content and "err" in r.content and "exit status 3" in r.content
    t0 = time.monotonic()
    r = call(ws, "shell", command="sleep 30", timeout=1)
    assert "killed after the 1 s timeout" in r.content and time.monotonic() - t0 < 10
    big = call(ws, "shell", command="yes | head -c 200000")
    assert len(big.content) < 70_000 and "bytes omitted" in big.content and big.content.startswith("y\ny\n")
    flood = call(ws, "shell", command="yes")  # never ends on its own: killed once it floods
    assert "killed after writing more than 50 MB" in flood.content


def test_bad_arguments_come_back_as_errors() -> None:
    with pytest.raises(Exception, match="not valid JSON"):
        parse_arguments("{oops")
    assert parse_arguments("") == {}
    assert os.sep == "/"


def test_lime_config_home_and_keys_stay_out_of_reach(tmp_path: Path) -> None:
    home = tmp_path / "proj" / ".limehome"
    home.mkdir(parents=True)
    (home / "credentials.json").write_text('{"buckets": {"x": {"api_key": "sk-secret-abcdef123456"}}}')
    (tmp_path / "proj" / "notes.txt").write_text("the key is sk-secret-abcdef123456\n")
    ws = Workspace(tmp_path / "proj", [], [home.resolve()], ["sk-secret-abcdef123456"])
    r = call(ws, "read_file", path=".limehome/credentials.json")
    assert r.status == "error" and "configuration directory" in r.content
    assert ".limehome" not in call(ws, "list_files").content
    assert "sk-secret-abcdef123456" not in call(ws, "grep", pattern="sk-").content
    assert "sk-...3456" in call(ws, "read_file", path="notes.txt").content
    out = call(ws, "shell", command="cat .limehome/credentials.json; echo ${GROQ_API_KEY:-unset}").content
    assert "sk-secret-abcdef123456" not in out


def test_shell_does_not_see_api_key_variables(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GROQ_API_KEY", "gsk-zzzzzzzzzzzzzzzz")
    monkeypatch.setenv("SOME_OTHER_API_KEY", "other-zzzzzzzzzzzz")
    out = call(ws, "shell", command="echo ${GROQ_API_KEY:-unset} ${SOME_OTHER_API_KEY:-unset}").content
    assert out.startswith("unset unset")


def test_earlier_tool_names_are_aliases() -> None:
    for old, new in (("list_files", "glob_search"), ("grep", "grep_search"), ("shell", "bash")):
        assert lookup(old) is TOOLS[new]
    assert set(TOOLS) == {"read_file", "write_file", "edit_file", "glob_search", "grep_search", "bash"}
    assert lookup("frobnicate") is None
