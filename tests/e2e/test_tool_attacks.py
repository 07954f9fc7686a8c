"""A hostile model and a hostile repo against the file tools, through the real ``lime`` command.

Each test is one attack: a scripted model asks for the call, and what comes back to the model
(the next request's tool messages) must not carry what the attack was after.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from support.fakeserver import reply, tool_call_stream
from support.procs import running
from support.race import start_swapper

from .conftest import Lime

# Read-only tools run without asking in every mode, so every mode must hold the line.
MODES = ["default", "plan", "acceptEdits", "dontAsk", "bypassPermissions"]


def tool_results(lime: Lime) -> list[str]:
    return [m["content"] for m in lime.server.last.json["messages"] if m["role"] == "tool"]


@pytest.mark.parametrize("mode", MODES)
def test_symlinks_planted_in_a_repo_do_not_leak_outside_files(lime: Lime, tmp_path: Path, mode: str) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("SECRET-LINE the neighbour's diary\n")
    (lime.cwd / "docs").mkdir()
    (lime.cwd / "docs" / "notes.md").symlink_to(outside)
    (lime.cwd / "docs" / "creds.json").symlink_to(lime.home / "credentials.json")
    (lime.cwd / "docs" / "home").symlink_to(lime.home, target_is_directory=True)
    (lime.cwd / "docs" / "inside.md").symlink_to(lime.cwd / "real.md")
    (lime.cwd / "real.md").write_text("SECRET-LINE is not here, only this sentence\n")
    lime.server.enqueue(
        tool_call_stream([("grep_search", {"pattern": "SECRET-LINE"}),
                          ("grep_search", {"pattern": "sk-e2e", "path": "docs"}),
                          ("grep_search", {"pattern": "api_key"}),
                          ("glob_search", {"path": "docs"}),
                          ("glob_search", {"pattern": "**/*"}),
                          ("read_file", {"path": "docs/notes.md"}),
                          ("read_file", {"path": "docs/creds.json"}),
                          ("read_file", {"path": "docs/home/credentials.json"}),
                          ("read_file", {"path": "docs/inside.md"})]),
        reply("done"),
    )
    proc = lime.run("--permission-mode", mode, "-p", "look around")
    assert proc.returncode == 0, proc.stderr
    seen = "\n".join(tool_results(lime))
    assert "diary" not in seen and "sk-e2e" not in seen and "api_key" not in seen
    grep1, grep2, grep3, listing, walk, notes, creds, home, inside = tool_results(lime)
    assert grep1 == "real.md:1:SECRET-LINE is not here, only this sentence"  # links are not followed
    assert grep2 == grep3 == "(no matches)"
    assert listing == "docs/inside.md"  # the links to the outside are not even listed
    assert "notes.md" not in walk and "creds" not in walk and "docs/inside.md" in walk
    for refused in (notes, creds, home):
        assert refused.startswith("error:") and ("outside the workspace" in refused or "configuration" in refused)
    assert "1\tSECRET-LINE is not here" in inside


@pytest.mark.parametrize("mode", MODES)
def test_hostile_arguments_come_back_as_tool_errors(lime: Lime, mode: str) -> None:
    (lime.cwd / "a.txt").write_text("one\ntwo\n")
    odd = lime.cwd.joinpath(os.fsdecode(b"caf\xe9-\x1b[2J.txt"))
    odd.write_bytes(b"needle in a latin-1 named file\n")
    calls = [
        {"name": "read_file", "arguments": '{"path": "a\\u0000b.txt"}'},
        {"name": "read_file", "arguments": '{"path": "a.txt", "start_line": 1e999}'},
        {"name": "read_file", "arguments": '{"path": "a.txt", "start_line": "two"}'},
        {"name": "read_file", "arguments": '{"path": "a.txt", "end_line": [1]}'},
        {"name": "read_file", "arguments": '{"path": 42}'},
        {"name": "read_file", "arguments": '{"path": "\\udce9.txt"}'},
        {"name": "glob_search", "arguments": '{"pattern": {"x": 1}}'},
        {"name": "glob_search", "arguments": "{}"},
        {"name": "grep_search", "arguments": '{"pattern": "needle"}'},
        {"name": "read_file", "arguments": '{"path": "caf\\\\xe9-\\\\x1b[2J.txt"}'},
        {"name": "grep_search", "arguments": '[' * 5000},
    ]
    lime.server.enqueue(tool_call_stream(calls), reply("done"))
    proc = lime.run("--permission-mode", mode, "-p", "try these")
    assert proc.returncode == 0, proc.stderr
    (nul, inf, word, lst, num, surrogate, pattern, listing, grep, escaped, deep) = tool_results(lime)
    assert nul == "error: a path cannot contain a NUL character"
    assert inf == "error: start_line must be an integer, got inf"
    assert word.startswith("error: start_line must be an integer") and "two" in word
    assert lst.startswith("error: end_line must be an integer")
    assert num == "error: a path is required (a non-empty string)"
    assert surrogate.startswith("error:") and "no such file" in surrogate
    assert pattern == "error: pattern must be a string, got dict"
    assert "caf\\xe9-\\x1b[2J.txt" in listing and "\x1b" not in listing
    assert grep == "caf\\xe9-\\x1b[2J.txt:1:needle in a latin-1 named file"
    assert "1\tneedle in a latin-1 named file" in escaped
    assert deep.startswith("error: arguments")
    assert "\x1b" not in proc.stderr
    for line in lime.sessions()[0].read_text().splitlines():
        json.loads(line)


@pytest.mark.parametrize("mode", MODES)
def test_parallel_reads_racing_a_symlink_swap_never_escape(lime: Lime, tmp_path: Path, mode: str) -> None:
    (lime.cwd / "d").mkdir()
    (lime.cwd / "d" / "f.txt").write_text("inside\n")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "f.txt").write_text("ESCAPED\n")
    turns = 6
    lime.server.enqueue(*[tool_call_stream([("read_file", {"path": "d/f.txt"})] * 40) for _ in range(turns)],
                        reply("done"))
    swapper = start_swapper(lime.cwd, outside)
    try:
        time.sleep(0.2)
        proc = lime.run("--permission-mode", mode, "-p", "read it, many times")
    finally:
        swapper.kill()
        swapper.wait()
    assert proc.returncode == 0, proc.stderr
    results = [m["content"] for r in lime.server.chat_requests for m in r.json["messages"] if m["role"] == "tool"]
    assert len(results) == sum(range(1, turns + 1)) * 40
    assert not any("ESCAPED" in r for r in results)


@pytest.mark.parametrize("mode", MODES)
def test_grep_has_linear_regexes_skips_fifos_and_caps_its_output(lime: Lime, mode: str) -> None:
    (lime.cwd / "evil.txt").write_text("a" * 40 + "!\n")
    os.mkfifo(lime.cwd / "blocks-forever")
    (lime.cwd / "sub").mkdir()
    os.mkfifo(lime.cwd / "sub" / "fifo.txt")
    (lime.cwd / "many.txt").write_text("hit\n" * 5000)
    (lime.cwd / "wide.txt").write_text("x" * 3_000_000 + "hit\n")
    lime.server.enqueue(
        tool_call_stream([("grep_search", {"pattern": "(a+)+$"}),
                          ("grep_search", {"pattern": "hit", "glob": "many.txt"}),
                          ("grep_search", {"pattern": "hit", "path": "sub/fifo.txt"}),
                          ("grep_search", {"pattern": "hit", "glob": "wide.txt"}),
                          ("grep_search", {"pattern": "(unclosed"})]),
        reply("done"),
    )
    t0 = time.monotonic()
    proc = lime.run("--permission-mode", mode, "-p", "search", timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert time.monotonic() - t0 < 20
    backtrack, many, fifo, wide, bad = tool_results(lime)
    assert backtrack == "(no matches)"
    assert many.count("\n") == 200 and many.endswith("[more than 200 matches; narrow the search]")
    assert fifo == "error: sub/fifo.txt is not a regular file or directory"
    assert wide.startswith("wide.txt:1:xxx") and len(wide) < 5000
    assert bad.startswith("error: bad regular expression") and "unclosed" in bad


BACKGROUND = "sleep 25.0417 & echo started"


@pytest.mark.parametrize("flags", [["--permission-mode", "bypassPermissions"], ["--dangerously-skip-permissions"],
                                   ["--permission-mode", "dontAsk"],
                                   ["--settings", json.dumps({"permissions": {"allow": ["Bash"]}})]])
def test_shell_timeout_holds_against_background_children(lime: Lime, flags: list[str]) -> None:
    lime.server.enqueue(tool_call_stream([("bash", {"command": BACKGROUND, "timeout": 2})]),
                        tool_call_stream([("bash", {"command": "sleep 30", "timeout": 1})]),
                        reply("done"))
    t0 = time.monotonic()
    proc = lime.run(*flags, "-p", "start a server")
    took = time.monotonic() - t0
    assert proc.returncode == 0, proc.stderr
    assert took < 10, took
    first, second = (m["content"] for r in lime.server.chat_requests[1:] for m in r.json["messages"][-1:])
    assert first.startswith("started\n")
    assert second == "[killed after the 1 s timeout, no output]"
    assert not running("sleep 25.0417")  # the background sleep did not outlive the call


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_commands_do_not_outlive_lime(lime: Lime, sig: int) -> None:
    command = "sleep 100 & echo $! > bg.pid; echo $$ > sh.pid; sleep 50"
    lime.server.enqueue(tool_call_stream([("bash", {"command": command, "timeout": 60})]), reply("done"))
    proc = subprocess.Popen([sys.executable, "-m", "lime", "--permission-mode", "bypassPermissions", "-p", "go"],
                            cwd=lime.cwd, env=lime.env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while not (lime.cwd / "sh.pid").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.2)
        proc.send_signal(sig)
        proc.communicate(timeout=20)
    finally:
        proc.kill()
        proc.wait()
    pids = [int((lime.cwd / name).read_text()) for name in ("bg.pid", "sh.pid")]
    time.sleep(0.2)
    assert not any(alive(p) for p in pids)


def alive(pid: int) -> bool:
    """Running, not a zombie waiting for a reaper (a container's init may never reap it)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")
