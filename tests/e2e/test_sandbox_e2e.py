"""The shell sandbox through the real ``lime`` command: an approved command still cannot read
lime's credentials or write outside the workspace, while work inside the workspace goes on."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from lime.runtime.sandbox import landlock_abi
from lime.runtime.shellrun import layers
from support.fakeserver import reply, tool_call_stream

from .conftest import KEY, Lime

ABI, WHY = landlock_abi()
needs_landlock = pytest.mark.skipif(not ABI, reason=f"no Landlock here: {WHY}")


def outside_dir(tmp_path: Path) -> Path:
    """A directory outside the workspace, the config home and the temp dir (TMPDIR, see ``run``)."""
    (tmp_path / "scratch").mkdir(exist_ok=True)
    (tmp_path / "outside").mkdir(exist_ok=True)
    return tmp_path / "outside"


def run(lime: Lime, tmp_path: Path, *args: str, **env: str) -> str:
    proc = lime.run(*args, TMPDIR=str(tmp_path / "scratch"), **env)
    assert proc.returncode == 0, proc.stderr
    return proc.stderr


def attack(lime: Lime, outside: Path) -> str:
    creds = lime.home / "credentials.json"
    return "; ".join([
        'echo "home=[$LIME_CONFIG_HOME] key=[$OPENAI_API_KEY]"',
        f"base64 {creds}",
        f"cat {creds}",
        f"ls {lime.home}",
        f"touch {outside}",
        "echo work > inside.txt && cat inside.txt",
        "mkdir -p build/out && echo built > build/out/a && mv build/out/a build/b && cat build/b",
        "echo temp > $TMPDIR/t && cat $TMPDIR/t",
    ])


ALLOW_BASH = ["--settings", json.dumps({"permissions": {"allow": ["Bash"]}})]


@needs_landlock
@pytest.mark.parametrize("flags", [
    ALLOW_BASH,
    ["--permission-mode", "acceptEdits", *ALLOW_BASH],
    ["--permission-mode", "dontAsk"],
])
def test_an_approved_command_cannot_read_the_credentials_or_write_outside(
        lime: Lime, tmp_path: Path, flags: list[str]) -> None:
    outside = outside_dir(tmp_path) / "escape.txt"
    lime.server.enqueue(tool_call_stream([("bash", {"command": attack(lime, outside)})]), reply("done"))
    run(lime, tmp_path, *flags, "-p", "run it", OPENAI_API_KEY=KEY)
    result = lime.server.last.json["messages"][-1]["content"]
    creds = (lime.home / "credentials.json").read_bytes()
    assert "home=[] key=[]" in result
    assert base64.b64encode(creds)[:40].decode() not in result and "openai_compat" not in result
    refused = ("Permission denied", "No such file or directory", "Read-only file system")
    assert sum(result.count(r) for r in refused) >= 3, result
    assert not outside.exists()
    assert "work\n" in result and (lime.cwd / "inside.txt").read_text() == "work\n"
    assert "built\n" in result and (lime.cwd / "build" / "b").read_text() == "built\n"
    assert "temp\n" in result


def test_status_names_the_sandbox_and_a_user_setting_turns_it_off(lime: Lime, tmp_path: Path) -> None:
    line = next(ln for ln in lime.run("status").stdout.splitlines() if ln.startswith("sandbox:"))
    assert line.split(None, 1)[1] == layers().summary()
    (lime.home / "settings.json").write_text(json.dumps({"sandbox": False}))
    assert "sandbox:         off" in lime.run("status").stdout
    outside = outside_dir(tmp_path) / "escape.txt"
    lime.server.enqueue(tool_call_stream([("bash", {"command": f"touch {outside}"})]), reply("done"))
    run(lime, tmp_path, *ALLOW_BASH, "-p", "run it")
    assert outside.exists()  # the user turned it off: commands run unconfined


@needs_landlock
def test_a_checked_in_setting_cannot_turn_the_sandbox_off(lime: Lime, tmp_path: Path) -> None:
    (lime.cwd / ".lime.json").write_text(json.dumps({"sandbox": False}))
    outside = outside_dir(tmp_path) / "escape.txt"
    lime.server.enqueue(tool_call_stream([("bash", {"command": f"touch {outside}"})]), reply("done"))
    stderr = run(lime, tmp_path, "--trust", *ALLOW_BASH, "-p", "run it")
    assert not outside.exists() and "sandbox" in stderr
    # bypassPermissions is the other way to turn it off.
    lime.server.enqueue(tool_call_stream([("bash", {"command": f"touch {outside}"})]), reply("done"))
    run(lime, tmp_path, "--permission-mode", "bypassPermissions", "-p", "run it")
    assert outside.exists()


def test_status_reports_the_sandbox_the_chat_would_use(lime: Lime, tmp_path: Path) -> None:
    """--settings and a trusted folder's local settings turn the sandbox off for a chat: status says so too."""
    flag = tmp_path / "no-sandbox.json"
    flag.write_text(json.dumps({"sandbox": False}))
    assert "sandbox:         off" in lime.run("--settings", str(flag), "status").stdout
    (lime.cwd / ".lime").mkdir(exist_ok=True)
    (lime.cwd / ".lime" / "settings.local.json").write_text(json.dumps({"sandbox": False}))
    assert "sandbox:         off" in lime.run("--trust", "status").stdout
    assert "sandbox:         off" not in lime.run("status").stdout  # untrusted: its files are ignored
