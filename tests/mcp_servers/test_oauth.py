"""OAuth for remote MCP servers: a server answering 401 is one line naming `lime mcp login`; login
runs authorization code with PKCE through a browser (a script here, via $BROWSER), stores the
tokens 0600, and a refused token is refreshed."""

from __future__ import annotations

import json
import sys
import urllib.request

from support.fakeserver import reply, tool_call_stream

from .conftest import SERVERS, Lime, Remote, free_port

BROWSER = f"{sys.executable} -c \"import sys, urllib.request; urllib.request.urlopen(sys.argv[1])\" %s"


def test_sign_in_store_and_refresh(lime: Lime, remote: list[Remote]) -> None:
    port = free_port()
    remote.append(Remote([sys.executable, str(SERVERS / "oauth_server.py"), str(port)], port))
    assert lime.run("mcp", "add", "--transport", "http", "secure", f"http://127.0.0.1:{port}/mcp").returncode == 0
    listed = lime.run("mcp", "get", "secure")
    assert "needs sign-in (HTTP 401): sign in with 'lime mcp login secure'" in listed.stdout

    out = lime.run("mcp", "login", "secure", BROWSER=BROWSER)
    assert out.returncode == 0, out.stderr
    assert "code_challenge_method=S256" in out.stderr and "signed in to MCP server secure" in out.stdout
    tokens = lime.home / "mcp-oauth.json"
    assert tokens.stat().st_mode & 0o077 == 0
    assert json.loads(tokens.read_text())["servers"][f"http://127.0.0.1:{port}/mcp"]["access_token"] == "tok1"

    lime.server.enqueue(tool_call_stream([("mcp__secure__whoami", {})]), reply("ok"))
    proc = lime.run("-p", "who am I", "--permission-mode", "dontAsk")
    assert proc.returncode == 0, proc.stderr
    assert [m["content"] for m in lime.server.last.json["messages"] if m["role"] == "tool"] == ["signed in with token number 1"]
    assert "tok1" not in proc.stdout + proc.stderr

    urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{port}/revoke", data=b"", method="POST"))
    lime.server.enqueue(tool_call_stream([("mcp__secure__whoami", {})]), reply("ok"))
    proc = lime.run("-p", "who am I", "--permission-mode", "dontAsk")
    assert proc.returncode == 0, proc.stderr
    assert [m["content"] for m in lime.server.last.json["messages"] if m["role"] == "tool"] == ["signed in with token number 2"]

    assert lime.run("mcp", "logout", "secure").returncode == 0
    assert "needs sign-in" in lime.run("mcp", "get", "secure").stdout
