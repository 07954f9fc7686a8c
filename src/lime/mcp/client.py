"""One MCP server, connected: the initialize handshake, its tool list (refreshed when it says the
list changed), tool calls, and the requests a server may make of lime (roots, sampling, elicitation).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lime.mcp.config import ServerConfig, expand
from lime.mcp.http import NeedsLogin
from lime.mcp.rpc import INVALID_PARAMS, Connection, McpError, Message, RpcError, TimedOut, Transport
from lime.version import __version__

PROTOCOL_VERSION = "2025-06-18"
MAX_TOOLS = 500  # tools one server may add (the rest are dropped, with a note)
MAX_PAGES = 50


@dataclass
class Hooks:
    """What a server may ask of lime; the defaults refuse, as a session without a terminal must."""

    roots: list[Path] = field(default_factory=list)
    log: Callable[[str, str], None] | None = None  # (server, text), shown with -v
    note: Callable[[str], None] | None = None  # one line for the user
    sample: Callable[[str, Any], Any] | None = None  # (server, params) -> CreateMessageResult
    elicit: Callable[[str, Any], Any] | None = None  # (server, params) -> ElicitResult
    tools_changed: Callable[[str], None] | None = None


def child_env(cfg: ServerConfig) -> dict[str, str]:
    """The server's environment: lime's own, less every key and LIME_ setting, plus its own ``env``
    (expanded): it sees a key only when its entry names it."""
    from lime.catalog.presets import PRESETS

    secret = {p.env_var for p in PRESETS.values() if p.env_var} | {"OPENAI_API_KEY", "OPENAI_BASE_URL"}
    env = {k: v for k, v in os.environ.items()
           if k not in secret and not k.endswith("_API_KEY") and not k.startswith("LIME_")}
    env.update({k: expand(v) for k, v in cfg.env.items()})
    return env


_SECRET_NAME = ("KEY", "TOKEN", "SECRET", "PASSWORD", "PASSWD", "AUTH", "CREDENTIAL", "COOKIE", "SESSION")


def secrets_of(cfg: ServerConfig) -> list[str]:
    """What the entry hands its server that a tool result must not carry back to the model: values
    of env variables and headers whose names say secret, and a stored OAuth token."""
    out: list[str] = []
    items = [*cfg.env.items(), *cfg.headers.items()]
    for name, raw in items:
        if not any(word in name.upper() for word in _SECRET_NAME):
            continue
        try:
            value = expand(raw)
        except Exception:
            continue
        out.append(value)
        if " " in value:  # "Bearer TOKEN"
            out.append(value.split(" ", 1)[1])
    if cfg.url and cfg.type in ("http", "sse"):
        from lime.mcp import oauth

        entry = oauth.stored(cfg.url)
        if entry:
            out += [v for k, v in entry.items() if k in ("access_token", "refresh_token") and isinstance(v, str)]
    return [v for v in out if len(v) >= 8]


def transport_for(cfg: ServerConfig, root: Path, log: Callable[[str], None] | None) -> Transport:
    if cfg.type == "stdio":
        from lime.mcp.stdio import StdioTransport

        assert cfg.command is not None
        argv = [expand(cfg.command), *(expand(a) for a in cfg.args)]
        cwd = str((root / os.path.expanduser(expand(cfg.cwd))) if cfg.cwd else root)
        return StdioTransport(argv, env=child_env(cfg), cwd=cwd, log=log)
    assert cfg.url is not None
    url = expand(cfg.url)
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    wanted = ("ws", "wss") if cfg.type == "ws" else ("http", "https")
    if parts.scheme not in wanted or not parts.netloc:
        raise McpError(f"the url must start with {wanted[0]}:// or {wanted[1]}://")
    headers = {k: expand(v) for k, v in cfg.headers.items()}
    if cfg.type == "http":
        from lime.mcp.http import StreamableHttpTransport

        return StreamableHttpTransport(url, headers)
    if cfg.type == "sse":
        from lime.mcp.http import SseTransport

        return SseTransport(url, headers, wait=cfg.startup_timeout)
    from lime.mcp.ws import WsTransport

    return WsTransport(url, headers, wait=cfg.startup_timeout)


class Client:
    def __init__(self, cfg: ServerConfig, root: Path, hooks: Hooks) -> None:
        self.cfg = cfg
        self.root = root
        self.hooks = hooks
        self.conn: Connection | None = None
        self.info: dict[str, Any] = {}
        self.capabilities: dict[str, Any] = {}
        self.instructions = ""
        self.tools: list[dict[str, Any]] = []
        self.dropped_tools = 0
        self.invalid_note: str | None = None
        self._lock = threading.Lock()
        self._calls = 0  # tool calls in flight
        self._stale = threading.Event()  # the tool list changed during a call

    # -- connecting ------------------------------------------------------------------------

    def connect(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        log: Callable[[str], None] | None = None
        if self.hooks.log is not None:
            hook = self.hooks.log

            def log(text: str) -> None:
                hook(self.cfg.name, text)
        transport = transport_for(self.cfg, self.root, log)
        conn = Connection(transport, on_request=self._on_request, on_notification=self._on_notification,
                          on_invalid=self._on_invalid)
        if hasattr(transport, "on_invalid"):
            transport.on_invalid = self._on_invalid
        self.conn = conn
        conn.start()
        try:
            result = conn.request("initialize", {
                "protocolVersion": PROTOCOL_VERSION,
                "capabilities": {"roots": {"listChanged": True}, "sampling": {}, "elicitation": {}},
                "clientInfo": {"name": "lime", "version": __version__},
            }, timeout=max(0.1, deadline - time.monotonic()))
        except TimedOut:
            why = f"did not answer initialize within {self.cfg.startup_timeout:g} s"
            raise McpError(why + (f" (it wrote {self.invalid_note})" if self.invalid_note else "")) from None
        except NeedsLogin as exc:
            raise McpError(f"{exc}: sign in with 'lime mcp login {self.cfg.name}'") from None
        except McpError as exc:
            if self.invalid_note and not isinstance(exc, RpcError):
                raise McpError(f"{exc} (it wrote {self.invalid_note})") from None
            raise
        if not isinstance(result, dict) or not isinstance(result.get("capabilities", {}), dict):
            raise McpError("the server's answer to initialize is not an MCP InitializeResult")
        self.capabilities = result.get("capabilities") or {}
        info = result.get("serverInfo")
        self.info = info if isinstance(info, dict) else {}
        version = result.get("protocolVersion")
        if isinstance(version, str) and hasattr(transport, "protocol"):
            transport.protocol = version
        instr = result.get("instructions")
        self.instructions = instr if isinstance(instr, str) else ""
        conn.notify("notifications/initialized")
        if hasattr(transport, "listen"):
            transport.listen()
        self.tools = self._list_tools(max(0.1, deadline - time.monotonic()))

    def _list_tools(self, timeout: float) -> list[dict[str, Any]]:
        if "tools" not in self.capabilities:
            return []
        assert self.conn is not None
        tools: list[dict[str, Any]] = []
        cursor: Any = None
        dropped = 0
        for _ in range(MAX_PAGES):
            result = self.conn.request("tools/list", {"cursor": cursor} if cursor else {}, timeout=timeout)
            page = result.get("tools") if isinstance(result, dict) else None
            if not isinstance(page, list):
                raise McpError("the server's tool list is not a list")
            for tool in page:
                if not isinstance(tool, dict) or not isinstance(tool.get("name"), str):
                    continue
                if not self.cfg.allows_tool(tool["name"]):
                    continue
                if len(tools) >= MAX_TOOLS:
                    dropped += 1
                    continue
                tools.append(tool)
            cursor = result.get("nextCursor")
            if not cursor or not isinstance(cursor, str):
                break
        self.dropped_tools = dropped
        return tools

    def refresh_tools(self) -> None:
        try:
            tools = self._list_tools(self.cfg.call_timeout)
        except McpError as exc:
            if self.hooks.note:
                self.hooks.note(f"MCP server {self.cfg.name}: cannot refresh its tools: {exc}")
            return
        with self._lock:
            self.tools = tools
        if self.hooks.tools_changed:
            self.hooks.tools_changed(self.cfg.name)

    # -- calling ---------------------------------------------------------------------------

    def call_tool(self, name: str, arguments: dict[str, Any],
                  progress: Callable[[Message], None] | None = None) -> dict[str, Any]:
        if self.conn is None:
            raise McpError("not connected")
        with self._lock:
            self._calls += 1
        try:
            result = self.conn.request("tools/call", {"name": name, "arguments": arguments},
                                       timeout=self.cfg.call_timeout, progress=progress)
        finally:
            with self._lock:
                self._calls -= 1
        if self._stale.is_set():  # the call changed the tool list: the next request offers the new one
            self._stale.clear()
            self.refresh_tools()
        if not isinstance(result, dict):
            raise McpError("the server's answer to tools/call is not an object")
        return result

    @property
    def alive(self) -> bool:
        return self.conn is not None and self.conn.closed_reason is None

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()

    # -- what the server sends --------------------------------------------------------------

    def _on_invalid(self, what: str) -> None:
        from lime.textsafe import sanitize

        note = sanitize(what)[:120]
        self.invalid_note = self.invalid_note or note
        if self.hooks.log:
            self.hooks.log(self.cfg.name, f"ignored {note}")

    def _on_notification(self, method: str, params: Any) -> None:
        if method == "notifications/tools/list_changed":
            with self._lock:
                during_call = self._calls > 0
            if during_call:
                self._stale.set()
            else:
                threading.Thread(target=self.refresh_tools, daemon=True, name="mcp-refresh").start()
        elif method == "notifications/message" and self.hooks.log and isinstance(params, dict):
            data = params.get("data")
            text = data if isinstance(data, str) else repr(data)
            self.hooks.log(self.cfg.name, f"[{params.get('level', 'info')}] {text[:2000]}")

    def _on_request(self, method: str, params: Any) -> Any:
        if method == "roots/list":
            return {"roots": [{"uri": p.as_uri(), "name": p.name or str(p)} for p in self.hooks.roots]}
        if method == "sampling/createMessage":
            if self.hooks.sample is None:
                raise RpcError(-1, "sampling was refused: lime has no terminal to ask the user on")
            return self.hooks.sample(self.cfg.name, params)
        if method == "elicitation/create":
            if self.hooks.elicit is None:
                return {"action": "decline"}
            return self.hooks.elicit(self.cfg.name, params)
        raise RpcError(-32601 if method else INVALID_PARAMS, f"method not found: {method}")
