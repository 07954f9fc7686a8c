"""The light commands must not pay for HTTP, rendering, line editing or tokenizer imports."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import Lime

HEAVY = ("httpx", "rich", "prompt_toolkit", "bpe_openai", "xllamacpp", "anyio", "h11", "pygments")


@pytest.mark.parametrize("argv", [["--help"], ["--version"], ["-V"], ["version"], ["model", "list"], ["status"],
                                  ["system-prompt"], ["init"], ["agents"]])
def test_light_commands_import_nothing_heavy(lime: Lime, argv: list[str], tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "lime", *argv], capture_output=True,
                          text=True, env=lime.env, timeout=60, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    imported = {line.split("|")[-1].strip().split(".")[0] for line in proc.stderr.splitlines()
                if line.startswith("import time:")}
    assert "lime" in imported
    assert not imported & set(HEAVY), sorted(imported & set(HEAVY))


def test_a_chat_without_mcp_servers_imports_no_mcp_client(lime: Lime, tmp_path: Path) -> None:
    """No server configured: neither the MCP SDK nor lime's MCP client is loaded (a one-shot costs what it did)."""
    from support.fakeserver import FakeServer, reply

    server = FakeServer()
    try:
        server.enqueue(reply("hello"))
        lime.set_env(OPENAI_API_KEY="sk-startup-test-0000000000", OPENAI_BASE_URL=server.base_url, HOME=str(tmp_path))
        proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "lime", "-p", "hi", "--model", "gpt-5.4"],
                              capture_output=True, text=True, env=lime.env, timeout=60, cwd=tmp_path,
                              stdin=subprocess.DEVNULL)
    finally:
        server.close()
    assert proc.returncode == 0, proc.stderr[-2000:]
    imported = {line.split("|")[-1].strip() for line in proc.stderr.splitlines() if line.startswith("import time:")}
    mcp = sorted(n for n in imported if n == "mcp" or n.startswith("mcp.") or
                 (n.startswith("lime.mcp.") and n != "lime.mcp.files"))
    assert mcp == [], mcp
    # Nor what only an @mention, a skill, a shell command or a non-ASCII host name needs.
    unused = {"lime.cli.mentions", "lime.runtime.skills", "encodings.idna", "lime.runtime.namespaces"}
    assert not imported & unused, sorted(imported & unused)
