"""The configured servers of one lime run: started together at launch (start-up costs the slowest
server, not their sum), each failure one line, a dead stdio server restarted once on its next
call, and every server stopped when lime exits.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lime.mcp.client import Client, Hooks
from lime.mcp.config import ServerConfig
from lime.mcp.rpc import Closed, McpError, Message
from lime.textsafe import sanitize


@dataclass
class Server:
    cfg: ServerConfig
    client: Client | None = None
    status: str = "stopped"  # starting | connected | failed | disabled | not approved | stopped
    error: str = ""
    restarted: bool = False

    @property
    def state(self) -> str:
        if self.status == "connected" and (self.client is None or not self.client.alive):
            return "failed"
        return self.status

    @property
    def tool_count(self) -> int:
        return len(self.client.tools) if self.client is not None and self.status == "connected" else 0


def one_line(text: str) -> str:
    return sanitize(" ".join(text.split()))[:400]


class Servers:
    def __init__(self, configs: list[ServerConfig], root: Path, hooks: Hooks,
                 say: Callable[[str], None], *, unapproved: set[str] | frozenset[str] = frozenset()) -> None:
        self.root = root
        self.hooks = hooks
        self.say = say
        self.servers: dict[str, Server] = {
            c.name: Server(c, status="disabled" if c.disabled else "not approved" if c.name in unapproved else "stopped")
            for c in configs}
        self._lock = threading.Lock()

    def start(self) -> None:
        """Start every enabled server at once; wait at most each one's start-up limit."""
        wanted = [s for s in self.servers.values() if s.status == "stopped"]
        if not wanted:
            return
        if any(s.cfg.type == "stdio" for s in wanted):
            from lime.mcp.stdio import install_exit_hooks

            install_exit_hooks()  # on the main thread: SIGTERM/SIGHUP stop the servers too
        threads = []
        began = time.monotonic()
        for s in wanted:
            t = threading.Thread(target=self._connect, args=(s,), daemon=True, name=f"mcp-start-{s.cfg.name}")
            t.start()
            threads.append((s, t))
        for s, t in threads:
            t.join(max(0.0, began + s.cfg.startup_timeout + 0.5 - time.monotonic()))
            if t.is_alive():
                s.status, s.error = "failed", f"did not finish starting within {s.cfg.startup_timeout:g} s"
                if s.client is not None:
                    s.client.close()
            if s.status == "failed":
                self.say(f"MCP server {sanitize(s.cfg.name)} is not available: {one_line(s.error)}")
            elif s.client is not None and s.client.dropped_tools:
                self.say(f"MCP server {sanitize(s.cfg.name)} offers more than {len(s.client.tools)} tools; "
                         f"{s.client.dropped_tools} were left out (choose with tools.allow in its entry)")

    def start_one(self, s: Server) -> None:
        t = threading.Thread(target=self._connect, args=(s,), daemon=True)
        t.start()
        t.join(s.cfg.startup_timeout + 0.5)
        if t.is_alive():
            s.status, s.error = "failed", f"did not finish starting within {s.cfg.startup_timeout:g} s"
            if s.client is not None:
                s.client.close()

    def _connect(self, s: Server) -> None:
        client = Client(s.cfg, self.root, self.hooks)
        s.client = client
        s.status, s.error = "starting", ""
        try:
            client.connect(s.cfg.startup_timeout)
        except (McpError, Exception) as exc:  # any failure of a server is its own, never lime's
            s.status = "failed"
            s.error = str(exc) if isinstance(exc, McpError) else f"{type(exc).__name__}: {exc}"
            client.close()
            return
        if s.status == "starting":  # not given up on meanwhile
            s.status = "connected"

    def call(self, name: str, tool: str, args: dict[str, Any],
             progress: Callable[[Message], None] | None = None) -> dict[str, Any]:
        s = self.servers[name]
        if s.status != "connected" or s.client is None or not s.client.alive:
            self._revive(s)
        assert s.client is not None
        try:
            return s.client.call_tool(tool, args, progress)
        except Closed as exc:
            s.status, s.error = "failed", str(exc)
            raise McpError(f"the MCP server {name} stopped during the call ({one_line(str(exc))})") from None

    def _revive(self, s: Server) -> None:
        """A stdio server that died is started again, once per run."""
        with self._lock:
            if s.status == "connected" and s.client is not None and s.client.alive:
                return
            reason = s.error
            if not reason and s.client is not None and s.client.conn is not None:
                reason = s.client.conn.closed_reason or ""
            reason = one_line(reason)
            if s.cfg.type != "stdio" or s.restarted or s.status in ("disabled", "not approved"):
                raise McpError(f"the MCP server {s.cfg.name} is not available" + (f" ({reason})" if reason else ""))
            s.restarted = True
            if s.client is not None:
                s.client.close()
            self.say(f"MCP server {sanitize(s.cfg.name)} stopped ({reason or 'no reason given'}); starting it again")
            self._connect(s)
            if s.status != "connected":
                raise McpError(f"the MCP server {s.cfg.name} could not be restarted: {one_line(s.error)}")

    def connected(self) -> list[Server]:
        return [s for s in self.servers.values() if s.status == "connected"]

    def stop(self) -> None:
        threads = [threading.Thread(target=s.client.close, daemon=True) for s in self.servers.values()
                   if s.client is not None]
        for t in threads:
            t.start()
        for t in threads:
            t.join(3.0)
        for s in self.servers.values():
            if s.status == "connected":
                s.status = "stopped"
