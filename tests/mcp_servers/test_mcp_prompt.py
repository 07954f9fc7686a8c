"""An MCP server's tools in the assembled system prompt: named, never described there (a server's
own words must not gain the system prompt's weight)."""

from __future__ import annotations

import json
import sys

from support.fakeserver import reply

from .conftest import SDK_SERVER, Lime


def test_mcp_tools_are_named_in_the_system_prompt_but_not_described(lime: Lime) -> None:
    lime.home.mkdir(exist_ok=True)
    (lime.home / "settings.json").write_text(json.dumps({"mcpServers": {"t": {"command": sys.executable,
                                                                              "args": [str(SDK_SERVER)]}}}))
    lime.server.enqueue(reply("ok"))
    proc = lime.run("-p", "hi")
    assert proc.returncode == 0, proc.stderr
    request = lime.server.requests[-1].json
    system = request["messages"][0]["content"]
    offered = {t["function"]["name"]: t["function"]["description"] for t in request["tools"]}
    assert offered["mcp__t__echo"].endswith("Echo the text back.")  # the schema still carries it
    assert "\n- mcp__t__echo\n" in system and "Echo the text back" not in system
    assert "- read_file: Read a text file" in system and "come from MCP servers or extensions" in system
