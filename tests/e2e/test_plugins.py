"""Plugins through the real command: install, enable (and what it shows), one plugin bringing a
hook, a custom command, a skill and an MCP server; disabled, none of them is used."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from support.fakeserver import reply

from .conftest import Lime

SDK_SERVER = Path(__file__).resolve().parent.parent / "mcp_servers" / "servers" / "sdk_server.py"


def make_plugin(where: Path) -> Path:
    root = where / "acme"
    (root / ".lime-plugin").mkdir(parents=True)
    (root / ".lime-plugin" / "plugin.json").write_text(json.dumps({
        "id": "acme-tools", "name": "Acme tools", "version": "1.0.0", "description": "Acme's helpers",
        "author": {"name": "Acme"}, "permissions": {"tools": ["bash"]},
        "mcpServers": {"acme": {"command": sys.executable, "args": [str(SDK_SERVER)]}},
    }))
    (root / "hooks").mkdir()
    (root / "hooks" / "hooks.json").write_text(json.dumps(
        {"hooks": {"SessionStart": ["echo started > ${LIME_PLUGIN_ROOT}/started.txt"]}}))
    (root / "commands").mkdir()
    (root / "commands" / "hello.md").write_text("---\ndescription: Greet\n---\nSay hello to {ARG1} from Acme.\n")
    (root / "skills" / "lint").mkdir(parents=True)
    (root / "skills" / "lint" / "SKILL.md").write_text("---\ndescription: Lint with Acme's rules\n---\nRun acme-lint.\n")
    return root


def test_a_plugin_brings_a_hook_a_command_a_skill_and_an_mcp_server(lime: Lime, tmp_path: Path) -> None:
    source = make_plugin(tmp_path)
    proc = lime.run("plugin", "install", str(source))
    assert proc.returncode == 0, proc.stderr
    installed = lime.home / "plugins" / "acme-tools"
    assert (installed / ".lime-plugin" / "plugin.json").is_file()
    listed = lime.run("plugin", "list").stdout
    assert "[off] acme-tools 1.0.0: Acme's helpers (by Acme)" in listed
    # Installed but not enabled: nothing of it is used.
    lime.server.enqueue(reply("ok"))
    assert lime.run("-p", "/hello Bob").returncode == 0
    assert lime.server.last.json["messages"][-1]["content"] == "/hello Bob"
    assert not (installed / "started.txt").exists()
    proc = lime.run("plugin", "enable", "acme-tools")
    assert proc.returncode == 0, proc.stderr
    for shown in ("run hook commands on this machine: SessionStart", "add slash commands: /hello",
                  "offer skills to the model: lint", "start MCP servers: acme", "asks for the tools: bash"):
        assert shown in proc.stdout, proc.stdout
    lime.server.enqueue(reply("Hello Bob!"))
    proc = lime.run("-p", "/hello Bob")
    assert proc.returncode == 0, proc.stderr
    request = lime.server.last.json
    assert request["messages"][-1]["content"] == "Say hello to Bob from Acme."
    assert "lint: Lint with Acme's rules" in request["messages"][0]["content"]
    assert any(t["function"]["name"].startswith("mcp__acme__") for t in request["tools"])
    assert (installed / "started.txt").read_text() == "started\n"
    assert "[on]  acme-tools" in lime.run("plugin", "list").stdout
    assert lime.run("plugin", "disable", "acme-tools").returncode == 0
    lime.server.enqueue(reply("ok"))
    assert lime.run("-p", "/hello Bob").returncode == 0
    assert lime.server.last.json["messages"][-1]["content"] == "/hello Bob"
    bad = lime.run("plugin", "enable", "nope")
    assert bad.returncode != 0 and "no plugin 'nope' installed" in bad.stderr
