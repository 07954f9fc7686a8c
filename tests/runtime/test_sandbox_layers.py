"""The shell sandbox's parts, each tried directly: the protected-path list (hook directories
included), the TIOCSTI seccomp filter, the secret-free child environment, placeholders that come
and go with a call, nested protected paths whose parent cannot be renamed away, network
isolation, and the Landlock-only fallback."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from lime.runtime import namespaces, protected, seccomp, shellrun
from lime.runtime.tools import TOOLS, Workspace, run_tool

LAYERS = shellrun.layers()
needs_namespaces = pytest.mark.skipif(not LAYERS.namespaces, reason=f"no namespaces here: {LAYERS.why_not}")


def bash(ws: Workspace, command: str) -> str:
    return run_tool(TOOLS["bash"], ws, {"command": command}).content


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    root = tmp_path / "ws"
    root.mkdir()
    home = tmp_path / "home"
    home.mkdir()
    (home / "credentials.json").write_text("{}")
    return Workspace(root.resolve(), [], [home.resolve()], sandbox=True)


def test_protected_paths_include_hook_managers_and_core_hooks_path(tmp_path: Path) -> None:
    for path in (".githooks/pre-commit", ".husky/pre-push", ".mcp.json", "sub/.git/config", ".github/workflows/a.yml",
                 "AGENTS.override.md", ".lime/settings.local.json"):
        assert protected.is_protected(path, hooks=()), path
    assert not protected.is_protected("src/main.py", hooks=())
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "config").write_text('[core]\n\tbare = false\n\thooksPath = "tools/hooks" # ours\n'
                                              "[other]\n\thooksPath = elsewhere\n")
    assert protected.hook_dirs(tmp_path) == ("tools/hooks",)
    assert protected.is_protected("tools/hooks/pre-commit", hooks=protected.hook_dirs(tmp_path))
    assert not protected.is_protected("tools/other", hooks=protected.hook_dirs(tmp_path))
    (tmp_path / ".git" / "config").write_text("[core]\n\thooksPath = /etc/hooks\n")
    assert protected.hook_dirs(tmp_path) == ()  # outside the workspace: read-only in the sandbox anyway
    present, missing = protected.mounts(tmp_path)
    assert tmp_path / ".git" in present and ".lime" in missing and ".github/workflows" in missing


FILTER_PROBE = textwrap.dedent("""
    import ctypes, errno, fcntl, json, os, termios
    from lime.runtime import seccomp
    prog = seccomp.tty_filter()
    master, slave = os.openpty()
    def tries():
        out = []
        for req, arg in ((termios.TIOCSTI, b"x"), (0x541C, b"\\x00"), (termios.TIOCGWINSZ, bytes(8))):
            try:
                fcntl.ioctl(slave, req, arg)
                out.append("ok")
            except OSError as exc:
                out.append(errno.errorcode[exc.errno])
        return out
    before = tries()
    buf = ctypes.create_string_buffer(prog)
    class FProg(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]
    fprog = FProg(len(prog) // 8, ctypes.cast(buf, ctypes.c_void_p))
    libc = ctypes.CDLL(None, use_errno=True)
    assert libc.prctl(38, 1, 0, 0, 0) == 0
    assert libc.prctl(22, 2, ctypes.byref(fprog), 0, 0) == 0, ctypes.get_errno()
    print(json.dumps([before, tries()]))
""")


@pytest.mark.skipif(seccomp.tty_filter() is None, reason="no seccomp filter for this machine")
def test_the_seccomp_filter_refuses_tiocsti_and_tioclinux_only() -> None:
    out = subprocess.run([sys.executable, "-c", FILTER_PROBE], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    before, after = json.loads(out.stdout)
    assert after[:2] == ["EPERM", "EPERM"] and after[2] == "ok"
    assert before[2] == "ok"
    for machine in ("aarch64", "riscv64"):
        prog = seccomp.tty_filter(machine)
        assert prog is not None and len(prog) % 8 == 0
    assert seccomp.tty_filter("sparc") is None


def test_the_child_environment_drops_every_variable_holding_a_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_LLM_TOKEN", "tok-0123456789abcdef")
    monkeypatch.setenv("AUTH_HDR", "Bearer hdr-0123456789abcdef")
    monkeypatch.setenv("GROQ_API_KEY", "whatever")
    monkeypatch.setenv("LIME_CONFIG_HOME", "/x")
    monkeypatch.setenv("HARMLESS", "tok-0123")
    env = shellrun.child_env(["tok-0123456789abcdef", "hdr-0123456789abcdef", "short"])
    assert not {"MY_LLM_TOKEN", "AUTH_HDR", "GROQ_API_KEY", "LIME_CONFIG_HOME"} & env.keys()
    assert env["HARMLESS"] == "tok-0123"


@needs_namespaces
def test_placeholders_exist_only_during_the_call(ws: Workspace) -> None:
    out = bash(ws, "ls -A; mkdir .lime .vscode 2>&1 | head -2; touch AGENTS.md 2>&1; echo $BASH_VERSION")
    for name in (".lime", ".lime.json", ".mcp.json", ".vscode", ".github", ".githooks", ".husky", "AGENTS.md"):
        assert name in out
    assert "Read-only file system" in out
    assert re.search(r"^\d+\.\d+\.\d+\(", out, re.M)  # $BASH_VERSION: bash runs it, not sh
    namespaces.settle()  # what the background clean-up does (and lime at exit)
    assert os.listdir(ws.cwd) == []


@needs_namespaces
def test_a_nested_protected_path_cannot_be_renamed_away(ws: Workspace) -> None:
    (ws.cwd / ".github" / "workflows").mkdir(parents=True)
    (ws.cwd / ".github" / "workflows" / "ci.yml").write_text("on: push\n")
    out = bash(ws, "mv .github gh; mv .github/workflows .github/w2; rm -rf .github; echo > .github/other.md; echo end")
    assert out.count("Device or resource busy") >= 2, out
    assert (ws.cwd / ".github" / "workflows" / "ci.yml").read_text() == "on: push\n"
    assert (ws.cwd / ".github" / "other.md").exists()  # the rest of .github stays writable
    assert not (ws.cwd / "gh").exists()


@needs_namespaces
def test_network_isolation(ws: Workspace) -> None:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(4)
    port = server.getsockname()[1]
    try:
        probe = f"(exec 3<>/dev/tcp/127.0.0.1/{port}) 2>/dev/null && echo reached || echo unreachable"
        assert bash(ws, probe).startswith("reached")
        ws.isolate_network = True
        assert bash(ws, probe).startswith("unreachable")
    finally:
        server.close()


def test_landlock_alone_is_the_fallback_and_says_so(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shellrun, "namespaces_available", lambda: ("", "no user namespaces here"))
    which = shellrun.layers()
    assert not which.namespaces and "no user namespaces here" in which.summary()
    out = bash(ws, "echo $BASH_VERSION; sleep 30.0909 & echo started")
    assert out.splitlines()[0].startswith("5.") and "started" in out
    from support.procs import running

    assert not running("sleep 30.0909")  # the group is killed as soon as the command ends
    assert shellrun.layers(enabled=False).summary().startswith("off (turned off")


@needs_namespaces
def test_a_protected_name_that_is_a_dangling_link_is_held_at_its_target(ws: Workspace) -> None:
    (ws.cwd / ".lime.json").symlink_to("notes/settings.json")
    (ws.cwd / "AGENTS.md").symlink_to("docs/agents.md")
    out = bash(ws, "mkdir -p notes docs; echo '{}' > notes/settings.json; echo hi > docs/agents.md; echo end")
    assert out.count("Read-only file system") == 2, out
    namespaces.settle()
    assert not (ws.cwd / "notes" / "settings.json").exists() and not (ws.cwd / "docs" / "agents.md").exists()


FALLBACK_TTY = r"""
ls /dev/pts 2>&1 | head -1
for f in /dev/pts/* /dev/console; do : > "$f" 2>/dev/null && echo "wrote $f"; done
python3 -c '
import fcntl, os, termios, sys
fd = int(sys.argv[1])
try:
    fcntl.ioctl(fd, termios.TIOCSTI, b"x")
    print("typed")
except OSError as exc:
    print("refused", exc.errno)
' 9 9<>/dev/null
echo end
"""


def test_the_fallback_keeps_commands_off_terminals(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    if not shellrun.layers().landlock:
        pytest.skip("no Landlock here")
    monkeypatch.setattr(shellrun, "namespaces_available", lambda: ("", "no user namespaces here"))
    out = bash(ws, FALLBACK_TTY)
    assert "Permission denied" in out.splitlines()[0] and "wrote" not in out, out
    if seccomp.tty_filter() is not None:
        assert "refused 1" in out, out  # EPERM from the filter (the kernel says ENOTTY for /dev/null)


@needs_namespaces
def test_a_working_bwrap_is_probed_once_then_remembered(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each chat start names the sandbox it will use; trying bwrap costs a process, so a success is
    remembered in the config home, and a later failure to make the namespaces forgets it."""
    monkeypatch.setenv("LIME_CONFIG_HOME", str(tmp_path / "home"))
    (tmp_path / "home").mkdir(mode=0o700)  # the probe is remembered in an existing config home only
    namespaces.available.cache_clear()
    spawned: list[list[str]] = []
    real_run = subprocess.run

    def counting_run(argv: list[str], *a: object, **k: object) -> object:
        spawned.append(argv)
        return real_run(argv, *a, **k)  # type: ignore[call-overload]

    monkeypatch.setattr(subprocess, "run", counting_run)
    try:
        assert namespaces.available()[0] and len(spawned) == 1
        namespaces.available.cache_clear()  # a new lime process
        assert namespaces.available()[0] and len(spawned) == 1  # remembered: no process
        namespaces.forget_probe()
        assert namespaces.available()[0] and len(spawned) == 2
    finally:
        namespaces.available.cache_clear()
