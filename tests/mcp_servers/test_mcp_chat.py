"""MCP tools in a chat, end to end: ``lime -p`` with the scripted fake model calling tools of real
servers over every transport, permission rules on them, and hostile servers that must leave the
session unharmed."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from e2e.conftest import KEY
from support.fakeserver import reply, tool_call_stream

from .conftest import HOSTILE, SDK_SERVER, Lime, Remote, everything_remote, sdk_remote


def configure(lime: Lime, servers: dict[str, dict[str, Any]]) -> None:
    lime.home.mkdir(exist_ok=True)
    (lime.home / "settings.json").write_text(json.dumps({"mcpServers": servers}))


def tool_results(lime: Lime) -> list[str]:
    return [m["content"] for m in lime.server.requests[-1].messages if m["role"] == "tool"]


def offered(lime: Lime, index: int = 0) -> list[str]:
    return [t["function"]["name"] for t in lime.server.requests[index].json.get("tools", [])]


def echo_through(lime: Lime, tool: str, args: dict[str, Any]) -> Any:
    lime.server.enqueue(tool_call_stream([(tool, args)]), reply("the server said hi"))
    return lime.run("-p", "use the echo tool to say hi", "--permission-mode", "dontAsk")


def test_the_real_server_answers_a_tool_call(lime: Lime, everything: Path) -> None:
    assert lime.run("mcp", "add", "everything", str(everything)).returncode == 0
    proc = echo_through(lime, "mcp__everything__echo", {"message": "hi"})
    assert proc.returncode == 0, proc.stderr
    assert "the server said hi" in proc.stdout
    assert "mcp__everything__echo" in offered(lime) and "bash" in offered(lime)
    assert tool_results(lime) == ["Echo: hi"]


@pytest.mark.parametrize("transport", ["http", "sse"])
def test_the_real_server_over_remote_transports(lime: Lime, everything: Path, remote: list[Remote],
                                                transport: str) -> None:
    url = everything_remote(remote, everything, transport)
    assert lime.run("mcp", "add", "--transport", transport, "everything", url).returncode == 0
    proc = echo_through(lime, "mcp__everything__echo", {"message": "hi"})
    assert proc.returncode == 0, proc.stderr
    assert tool_results(lime) == ["Echo: hi"]


@pytest.mark.parametrize("transport", ["stdio", "http", "sse"])
def test_sdk_servers_roots_errors_images_and_no_sampling_without_a_terminal(
        lime: Lime, remote: list[Remote], transport: str) -> None:
    entry: dict[str, Any] = ({"command": sys.executable, "args": [str(SDK_SERVER)]} if transport == "stdio"
                             else {"type": transport, "url": sdk_remote(remote, transport)})
    configure(lime, {"t": entry})
    lime.server.enqueue(tool_call_stream([("mcp__t__roots", {}), ("mcp__t__fail", {}), ("mcp__t__sample", {}),
                                          ("mcp__t__image", {}), ("mcp__t__echo", {"text": "a\x1b]52;c;x\x07b"})]),
                        reply("done"))
    proc = lime.run("-p", "go", "--permission-mode", "dontAsk")
    assert proc.returncode == 0, proc.stderr
    roots, fail, sample, image, echo = tool_results(lime)
    assert roots == lime.cwd.resolve().as_uri()
    assert fail.startswith("error:") and "fail" in fail
    assert "sampling was refused" in sample
    assert image.startswith("a pixel") and "[image: image/png" in image
    assert echo.startswith("echo: a")
    assert "\x1b" not in proc.stdout + proc.stderr


def test_servers_never_see_lime_s_keys_unless_their_env_names_them(lime: Lime) -> None:
    configure(lime, {"t": {"command": sys.executable, "args": [str(SDK_SERVER)],
                           "env": {"GIVEN": "${MY_VALUE}", "SERVICE_TOKEN": "token-for-the-server"}}})
    lime.server.enqueue(tool_call_stream([("mcp__t__env", {"name": "OPENAI_API_KEY"}),
                                          ("mcp__t__env", {"name": "FAKE_API_KEY"}),
                                          ("mcp__t__env", {"name": "GIVEN"}),
                                          ("mcp__t__env", {"name": "SERVICE_TOKEN"})]), reply("ok"))
    proc = lime.run("-p", "go", "--permission-mode", "dontAsk", OPENAI_API_KEY=KEY, FAKE_API_KEY=KEY,
                    MY_VALUE="plain-visible-data")
    assert proc.returncode == 0, proc.stderr
    unset, unset2, given, token = tool_results(lime)
    assert (unset, unset2, given) == ("(unset)", "(unset)", "plain-visible-data")
    # the server got its token; a tool result that shows it is masked before the model sees it
    assert token != "token-for-the-server" and "token-for-the-server" not in lime.server.last.body.decode()


def test_permission_rules_name_a_whole_server_or_one_tool(lime: Lime) -> None:
    configure(lime, {"t": {"command": sys.executable, "args": [str(SDK_SERVER)]}})
    # No terminal and no rule: an MCP tool needs approval, so it is refused with a way forward.
    lime.server.enqueue(tool_call_stream([("mcp__t__echo", {"text": "x"})]), reply("ok"))
    proc = lime.run("-p", "go")
    assert "needs approval" in tool_results(lime)[0] and "mcp__t__echo" in tool_results(lime)[0]
    # allow the whole server, deny one of its tools
    settings = json.dumps({"permissions": {"allow": ["mcp__t"], "deny": ["mcp__t__add"]}})
    lime.server.enqueue(tool_call_stream([("mcp__t__echo", {"text": "x"}), ("mcp__t__add", {"a": 1, "b": 2})]),
                        reply("ok"))
    proc = lime.run("-p", "go", "--settings", settings)
    assert proc.returncode == 0, proc.stderr
    echo, add = tool_results(lime)
    assert echo == "echo: x" and "denied" in add and "mcp__t__add" in add
    # --allowedTools offers only what it names
    lime.server.enqueue(reply("ok"))
    assert lime.run("-p", "go", "--allowedTools", "mcp__t__echo,read_file").returncode == 0
    assert sorted(offered(lime, -1)) == ["mcp__t__echo", "read_file"]


def test_tools_allow_and_deny_in_the_entry(lime: Lime) -> None:
    configure(lime, {"t": {"command": sys.executable, "args": [str(SDK_SERVER)],
                           "tools": {"allow": ["e*", "add"], "deny": ["env"]}}})
    lime.server.enqueue(reply("ok"))
    assert lime.run("-p", "go").returncode == 0
    assert sorted(n for n in offered(lime) if n.startswith("mcp__")) == ["mcp__t__add", "mcp__t__echo"]


def test_plan_mode_offers_read_only_tools_of_user_servers_only(lime: Lime) -> None:
    configure(lime, {"t": {"command": sys.executable, "args": [str(SDK_SERVER)]}})
    lime.server.enqueue(reply("ok"))
    assert lime.run("-p", "go", "--permission-mode", "plan").returncode == 0
    assert [n for n in offered(lime) if n.startswith("mcp__")] == ["mcp__t__add"]  # readOnlyHint: true


def test_a_planted_mcp_json_spawns_nothing(lime: Lime) -> None:
    marker = lime.cwd / "spawned"
    tag = f"planted-{os.getpid()}-{time.monotonic_ns()}"
    (lime.cwd / ".git").mkdir()
    (lime.cwd / ".mcp.json").write_text(json.dumps({"mcpServers": {"evil": {
        "command": sys.executable, "args": [str(HOSTILE), "planted", str(marker), tag]}}}))
    (lime.cwd / ".lime.json").write_text(json.dumps({"mcpServers": {"evil2": {
        "command": sys.executable, "args": [str(HOSTILE), "planted", str(marker), tag]}}}))
    lime.server.enqueue(reply("ok"), reply("ok"))
    proc = lime.run("-p", "hi")
    assert proc.returncode == 0, proc.stderr
    assert "skipped project MCP servers not yet approved (evil2, evil)" in proc.stderr
    proc = lime.run("-p", "hi", "--trust", "--permission-mode", "bypassPermissions")
    assert proc.returncode == 0 and "skipped project MCP servers" in proc.stderr
    assert not marker.exists()
    assert not [p for p in Path("/proc").iterdir() if p.name.isdigit() and _cmdline_has(p, tag)]
    assert not any(n.startswith("mcp__") for n in offered(lime, -1))


def _cmdline_has(proc_dir: Path, tag: str) -> bool:
    try:
        return tag.encode() in (proc_dir / "cmdline").read_bytes()
    except OSError:
        return False


def test_hostile_servers_leave_the_session_unharmed(lime: Lime) -> None:
    def hostile(mode: str, **extra: Any) -> dict[str, Any]:
        return {"command": sys.executable, "args": [str(HOSTILE), mode], **extra}

    configure(lime, {"silent": hostile("silent", startupTimeoutMs=1500),
                     "garbage": hostile("garbage", startupTimeoutMs=1500),
                     "dies": hostile("dies"), "big": hostile("big"), "many": hostile("many"),
                     "escapes": hostile("escapes"), "builtin": hostile("builtin")})
    lime.server.enqueue(tool_call_stream([("mcp__dies__crash", {}), ("mcp__big__huge", {}),
                                          ("bash", {"command": "echo built-in"})]),
                        tool_call_stream([("mcp__dies__crash", {})]),
                        reply("still here"))
    t0 = time.monotonic()
    proc = lime.run("-p", "go", "--permission-mode", "dontAsk")
    assert proc.returncode == 0, proc.stderr
    assert "still here" in proc.stdout
    assert time.monotonic() - t0 < 30
    lines = proc.stderr.splitlines()
    assert sum("MCP server silent is not available: did not answer initialize within 1.5 s" in x for x in lines) == 1
    assert sum("MCP server garbage is not available" in x and "not JSON" in x for x in lines) == 1
    assert sum("MCP server many offers more than 500 tools" in x for x in lines) == 1
    assert "\x1b" not in proc.stderr + proc.stdout and "\x07" not in proc.stderr + proc.stdout
    first = [m["content"] for m in lime.server.requests[1].messages if m["role"] == "tool"]
    assert "stopped during the call" in first[0]
    assert len(first[1]) < 40_000 and "characters omitted" in first[1]
    assert first[2].startswith("built-in")  # the built-in bash, not the server's tool of that name
    again = tool_results(lime)[-1]
    assert "crash" not in again or "restarted" in again or "stopped" in again
    names = offered(lime)
    assert "mcp__builtin__bash" in names and names.count("bash") == 1
    evil = [n for n in names if n.startswith("mcp__escapes__")]
    assert evil == ["mcp__escapes__evil__52_c_aGk__name", "mcp__escapes__ok"]
    tools = {t["function"]["name"]: t["function"] for t in lime.server.requests[0].json["tools"]}
    assert "\x1b" not in tools["mcp__escapes__evil__52_c_aGk__name"]["description"]
    assert sum(n.startswith("mcp__many__") for n in names) == 500


def test_a_tool_list_change_is_offered_on_the_next_request(lime: Lime) -> None:
    configure(lime, {"t": {"command": sys.executable, "args": [str(SDK_SERVER)]}})
    lime.server.enqueue(tool_call_stream([("mcp__t__grow", {"name": "fresh"})]),
                        tool_call_stream([("mcp__t__fresh", {})]), reply("ok"))
    proc = lime.run("-p", "go", "--permission-mode", "dontAsk")
    assert proc.returncode == 0, proc.stderr
    assert "mcp__t__fresh" not in offered(lime, 0) and "mcp__t__fresh" in offered(lime, 1)
    assert tool_results(lime) == ["added fresh", "fresh works"]


def test_images_reach_a_vision_model(lime: Lime) -> None:
    lime.add_model("eyes", supports_vision=True, supports_parallel_tool_calls=True)
    configure(lime, {"t": {"command": sys.executable, "args": [str(SDK_SERVER)]}})
    lime.server.enqueue(tool_call_stream([("mcp__t__image", {})]), reply("a red pixel"))
    proc = lime.run("-p", "look", "--permission-mode", "dontAsk", "--model", "eyes")
    assert proc.returncode == 0, proc.stderr
    last = lime.server.last.json["messages"]
    assert last[-2]["role"] == "tool" and "[image: image/png" in last[-2]["content"]
    parts = last[-1]["content"]
    assert last[-1]["role"] == "user" and parts[1]["image_url"]["url"].startswith("data:image/png;base64,iVBOR")


def test_a_websocket_server_answers_a_tool_call(lime: Lime, remote: list[Remote]) -> None:
    from .conftest import SERVERS, free_port

    port = free_port()
    remote.append(Remote([sys.executable, str(SERVERS / "ws_server.py"), str(port)], port))
    assert lime.run("mcp", "add", "--transport", "ws", "sock", f"ws://127.0.0.1:{port}/mcp").returncode == 0
    assert lime.run("mcp", "list").stdout.splitlines()[1].split()[1:4] == ["connected", "ws", "1"]
    lime.server.enqueue(tool_call_stream([("mcp__sock__echo", {"text": "hi" * 3_000})]), reply("ok"))
    proc = lime.run("-p", "go", "--permission-mode", "dontAsk")
    assert proc.returncode == 0, proc.stderr
    assert tool_results(lime)[0].startswith("ws echo: hihi")


def test_the_documented_npx_command_line(lime: Lime, everything: Path) -> None:
    """`lime mcp add everything npx -y @modelcontextprotocol/server-everything`, word for word; the
    entry's cwd points npx at the pinned install and npm stays offline."""
    from .conftest import ROOT

    out = lime.run("mcp", "add", "everything", "npx", "-y", "@modelcontextprotocol/server-everything")
    assert out.returncode == 0, out.stderr
    settings = json.loads((lime.home / "settings.json").read_text())
    settings["mcpServers"]["everything"]["cwd"] = str(ROOT / ".ci" / "mcp-servers")
    (lime.home / "settings.json").write_text(json.dumps(settings))
    lime.server.enqueue(tool_call_stream([("mcp__everything__echo", {"message": "hi"})]), reply("done"))
    proc = lime.run("-p", "use the echo tool to say hi", "--permission-mode", "dontAsk", npm_config_offline="true")
    assert proc.returncode == 0, proc.stderr
    assert tool_results(lime) == ["Echo: hi"]


def test_the_real_filesystem_server_works_in_the_roots_lime_announces(lime: Lime, filesystem: Path) -> None:
    """Started without directories, server-filesystem asks lime for its roots: the workspace."""
    (lime.cwd / "notes.txt").write_text("the secret ingredient is basil\n")
    assert lime.run("mcp", "add", "files", str(filesystem)).returncode == 0
    outside = lime.home / "settings.json"
    lime.server.enqueue(tool_call_stream([("mcp__files__read_text_file", {"path": str(lime.cwd / "notes.txt")}),
                                          ("mcp__files__read_text_file", {"path": str(outside)})]),
                        reply("basil"))
    proc = lime.run("-p", "what is the secret ingredient?", "--permission-mode", "dontAsk")
    assert proc.returncode == 0, proc.stderr
    inside, denied = tool_results(lime)
    assert inside.strip() == "the secret ingredient is basil"
    assert denied.startswith("error:") and "mcpServers" not in denied


def test_a_tools_progress_shows_while_it_runs(lime: Lime) -> None:
    """Progress notifications feed the call's status line on stderr (at most one a second), and
    stream-json carries each as a tool_progress event."""
    configure(lime, {"t": {"command": sys.executable, "args": [str(SDK_SERVER)]}})
    lime.server.enqueue(tool_call_stream([("mcp__t__slow", {"seconds": 0.2})]), reply("done"))
    proc = lime.run("-p", "go", "--permission-mode", "dontAsk")
    assert proc.returncode == 0, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("  ⋯ ")]
    assert len(lines) == 1 and lines[0].endswith(" step 1") and "/4" in lines[0], proc.stderr  # throttled
    lime.server.enqueue(tool_call_stream([("mcp__t__slow", {"seconds": 0.2})]), reply("done"))
    proc = lime.run("-p", "go", "--permission-mode", "dontAsk", "--output-format", "stream-json")
    assert proc.returncode == 0, proc.stderr
    events = [json.loads(ln) for ln in proc.stdout.splitlines()]
    progress = [e for e in events if e["type"] == "tool_progress"]
    call = next(e for e in events if e["type"] == "tool_call")
    assert len(progress) == 4 and {e["id"] for e in progress} == {call["id"]}
    assert "step 4" in progress[-1]["text"]


def test_a_progress_message_cannot_put_control_sequences_on_the_terminal(lime: Lime) -> None:
    """A server's progress text is shown as it runs: escape sequences in it (a clipboard write, a
    screen clear, a title change, carriage returns that overwrite the line) reach neither stderr
    nor a script's stream-json as control characters."""
    configure(lime, {"t": {"command": sys.executable, "args": [str(SDK_SERVER)]}})
    label = "\x1b]52;c;aGVsbG8=\x07\x1b[2J\x1b]0;pwned\x07\r\rwork\u202e\x9b31m"
    args = {"seconds": 0.2, "label": label}
    lime.server.enqueue(tool_call_stream([("mcp__t__slow", args)]), reply("done"))
    proc = lime.run("-p", "go", "--permission-mode", "dontAsk")
    assert proc.returncode == 0, proc.stderr
    shown = [ln for ln in proc.stderr.splitlines() if ln.startswith("  ⋯ ")]
    assert shown and "work" in shown[0] and "1" in shown[0], proc.stderr
    for ch in ("\x1b", "\x07", "\r", "\u202e", "\x9b"):
        assert ch not in proc.stderr + proc.stdout, repr(ch)
    lime.server.enqueue(tool_call_stream([("mcp__t__slow", args)]), reply("done"))
    proc = lime.run("-p", "go", "--permission-mode", "dontAsk", "--output-format", "stream-json")
    assert proc.returncode == 0, proc.stderr
    progress = [e for e in map(json.loads, proc.stdout.splitlines()) if e["type"] == "tool_progress"]
    assert len(progress) == 4 and all("work" in e["text"] for e in progress)
    for e in progress:
        assert not any(ch in e["text"] for ch in ("\x1b", "\x07", "\r", "\u202e", "\x9b")), e
