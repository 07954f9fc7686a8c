"""lime's MCP client against a real SDK server (in this process: the timings need it): concurrent
calls correlated by id, a changed tool list refreshed, progress, a tool call timeout, the server's
log, and a dead server restarted once."""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path
from typing import Any

from lime.mcp.client import Hooks
from lime.mcp.config import parse_server
from lime.mcp.manager import Servers
from lime.mcp.rpc import McpError

from .conftest import HOSTILE, SDK_SERVER


def start(entry: dict[str, Any], hooks: Hooks | None = None, notes: list[str] | None = None) -> Servers:
    cfg = parse_server("t", entry, "user", "test")
    servers = Servers([cfg], Path.cwd(), hooks or Hooks(), (notes if notes is not None else []).append)
    servers.start()
    return servers


def text(result: dict[str, Any]) -> str:
    return "".join(b.get("text", "") for b in result["content"])


def test_concurrent_calls_get_their_own_answers_and_progress() -> None:
    servers = start({"command": sys.executable, "args": [str(SDK_SERVER)]})
    try:
        out: dict[int, str] = {}
        progress: dict[int, list[Any]] = {i: [] for i in range(6)}

        def call(i: int) -> None:
            res = servers.call("t", "slow", {"seconds": 0.05 * (6 - i)}, progress=progress[i].append)
            out[i] = text(res)

        threads = [threading.Thread(target=call, args=(i,)) for i in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(20)
        assert out == {i: f"waited {0.05 * (6 - i)}" for i in range(6)}
        assert all(len(p) == 4 for p in progress.values()), progress
    finally:
        servers.stop()


def test_a_changed_tool_list_is_refreshed() -> None:
    changed = threading.Event()
    servers = start({"command": sys.executable, "args": [str(SDK_SERVER)]},
                    Hooks(tools_changed=lambda name: changed.set()))
    try:
        (s,) = servers.connected()
        assert s.client is not None and "fresh" not in [t["name"] for t in s.client.tools]
        assert text(servers.call("t", "grow", {"name": "fresh"})) == "added fresh"
        assert changed.wait(10)
        assert "fresh" in [t["name"] for t in s.client.tools]
        assert text(servers.call("t", "fresh", {})) == "fresh works"
    finally:
        servers.stop()


def test_a_call_past_its_timeout_fails_and_the_server_goes_on() -> None:
    servers = start({"command": sys.executable, "args": [str(SDK_SERVER)], "toolCallTimeoutMs": 300})
    try:
        t0 = time.monotonic()
        try:
            servers.call("t", "slow", {"seconds": 5})
            raise AssertionError("the call should have timed out")
        except McpError as exc:
            assert "no answer to tools/call within 0.3 s" in str(exc)
        assert time.monotonic() - t0 < 3
        assert text(servers.call("t", "echo", {"text": "still"})) == "echo: still"
    finally:
        servers.stop()


def test_log_messages_reach_the_log_hook() -> None:
    logs: list[tuple[str, str]] = []
    servers = start({"command": sys.executable, "args": [str(SDK_SERVER)]},
                    Hooks(log=lambda server, line: logs.append((server, line))))
    try:
        servers.call("t", "log", {"text": "hello from the server"})
        deadline = time.monotonic() + 5
        while not any("hello from the server" in line for _, line in logs) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert ("t", "[info] hello from the server") in logs
    finally:
        servers.stop()


def test_a_dead_stdio_server_is_restarted_once() -> None:
    notes: list[str] = []
    servers = start({"command": sys.executable, "args": [str(HOSTILE), "dies"]}, notes=notes)
    try:
        (s,) = servers.connected()
        pid = s.client.conn.transport.pid  # type: ignore[union-attr]
        for attempt in range(2):
            try:
                servers.call("t", "crash", {})
                raise AssertionError("the server dies in every call")
            except McpError as exc:
                assert "stopped during the call" in str(exc), attempt
        assert sum("starting it again" in n for n in notes) == 1
        assert s.client is not None and s.client.conn.transport.pid != pid  # type: ignore[union-attr]
        try:
            servers.call("t", "crash", {})
        except McpError as exc:
            assert "is not available" in str(exc)
    finally:
        servers.stop()


def test_a_server_flooding_lime_with_requests_gets_errors_not_threads() -> None:
    servers = start({"command": sys.executable, "args": [str(HOSTILE), "flood"]})
    try:
        assert threading.active_count() < 60
        assert text(servers.call("t", "hello", {})) == "called hello"
    finally:
        servers.stop()
