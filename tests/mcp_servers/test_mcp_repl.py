"""MCP on a terminal: a project server is approved once (its command line shown) and remembered,
/mcp lists the live servers, and reset-project-choices asks again."""

from __future__ import annotations

import json
import sys

import pexpect

from .conftest import SDK_SERVER, Lime


def spawn(lime: Lime) -> pexpect.spawn:
    env = {**lime.env, "PROMPT_TOOLKIT_NO_CPR": "1", "TERM": "xterm-256color"}
    return pexpect.spawn(sys.executable, ["-m", "lime", "--trust"], env=env, cwd=str(lime.cwd), encoding="utf-8",
                         timeout=30, dimensions=(40, 200))


def test_project_server_approval_and_slash_mcp(lime: Lime) -> None:
    (lime.cwd / ".mcp.json").write_text(json.dumps({"mcpServers": {"proj": {
        "command": sys.executable, "args": [str(SDK_SERVER)], "env": {"TOKEN": "${PROJ_TOKEN:-none}"}}}}))
    child = spawn(lime)
    child.expect("configures the MCP server 'proj'")
    child.expect("sdk_server.py")
    child.expect("reads your environment variables: PROJ_TOKEN")
    child.expect(r"\[y\]es / \[n\]o: ")
    child.send("y\r")
    child.expect("›")
    child.send("/mcp\r")
    child.expect(r"proj  connected  stdio  10 tools  \(project\)")
    child.expect("›")
    child.sendeof()
    child.expect(pexpect.EOF)
    child.close()
    choices = json.loads((lime.home / "mcp-project-choices.json").read_text())
    assert list(choices["projects"].values())[0]["proj"]["approved"] is True

    child = spawn(lime)  # remembered: no question this time
    index = child.expect(["configures the MCP server", "›"])
    assert index == 1
    child.sendeof()
    child.expect(pexpect.EOF)
    child.close()
    assert "forgot 1" in lime.run("mcp", "reset-project-choices").stdout
