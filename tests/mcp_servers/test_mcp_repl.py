"""MCP on a terminal: a project server is approved once (its command line shown) and remembered,
/mcp lists the live servers, and reset-project-choices asks again."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pexpect
import pytest

from .conftest import HOSTILE, SDK_SERVER, Lime


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
    child.expect(r"proj  connected  stdio  11 tools  \(project\)")
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


def _alive(pid: int) -> bool:
    import os

    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie waiting for its parent is gone for our purpose
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


@pytest.mark.parametrize("how", ["exit", "SIGTERM", "SIGHUP"])
def test_stdio_servers_and_their_children_stop_with_lime(lime: Lime, how: str) -> None:
    import signal
    import time

    marker = lime.cwd / "pids"
    lime.home.mkdir(exist_ok=True)
    (lime.home / "settings.json").write_text(json.dumps({"mcpServers": {"s": {
        "command": sys.executable, "args": [str(HOSTILE), "planted", str(marker)]}}}))
    child = spawn(lime)
    child.expect("›")
    server, grandchild = (int(x) for x in marker.read_text().split())
    assert _alive(server) and _alive(grandchild)
    if how == "exit":
        child.sendeof()
    else:
        child.kill(getattr(signal, how))
    child.expect(pexpect.EOF)
    child.close()
    deadline = time.monotonic() + 10
    while (_alive(server) or _alive(grandchild)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(server) and not _alive(grandchild)


def test_sampling_asks_on_the_terminal_then_uses_the_current_model(lime: Lime) -> None:
    from support.fakeserver import reply, tool_call_stream

    lime.home.mkdir(exist_ok=True)
    (lime.home / "settings.json").write_text(json.dumps({"mcpServers": {"t": {
        "command": sys.executable, "args": [str(SDK_SERVER)]}}}))
    lime.server.enqueue(tool_call_stream([("mcp__t__sample", {})]), reply("a sampled answer"), reply("all done"))
    child = spawn(lime)
    child.expect("›")
    child.send("sample something\r")
    child.expect(r"\[a\]lways for mcp__t__sample")  # the tool call's own approval first
    child.send("y\r")
    child.expect(r"asks the model \(1 messages; last: 'hi'\)")
    child.expect(r"Send it to fake-model\? \[y\]es / \[n\]o: ")
    child.send("y\r")
    child.expect("all done")
    child.expect("›")
    child.sendeof()
    child.expect(pexpect.EOF)
    child.close()
    sampled = lime.server.requests[1].json
    assert sampled["messages"] == [{"role": "user", "content": "hi"}]
    tool = [m for m in lime.server.requests[2].json["messages"] if m["role"] == "tool"]
    assert "sampled: " in tool[0]["content"] and "a sampled answer" in tool[0]["content"]


def test_elicitation_asks_on_the_terminal(lime: Lime) -> None:
    from support.fakeserver import reply, tool_call_stream

    lime.home.mkdir(exist_ok=True)
    (lime.home / "settings.json").write_text(json.dumps({"mcpServers": {"t": {
        "command": sys.executable, "args": [str(SDK_SERVER)]}}}))
    lime.server.enqueue(tool_call_stream([("mcp__t__ask", {})]), reply("nice name"))
    child = spawn(lime)
    child.expect("›")
    child.send("ask me\r")
    child.expect(r"\[a\]lways for mcp__t__ask")
    child.send("y\r")
    child.expect(r"MCP server t asks: What is your name\?")
    child.expect(r"Answer\? \[y\]es / \[n\]o: ")
    child.send("y\r")
    child.expect(r"Name \(string\): ")
    child.send("Ada\r")
    child.expect("nice name")
    child.expect("›")
    child.sendeof()
    child.expect(pexpect.EOF)
    child.close()
    tool = [m for m in lime.server.last.json["messages"] if m["role"] == "tool"]
    assert tool[0]["content"] == "accept: Ada"
