"""MCP servers in a chat: started while the session opens, their tools handed to the session
factory (registered beside the built-ins as ``mcp__SERVER__TOOL``), refreshed when a server says
its list changed, shown by ``/mcp``, and stopped when lime exits."""

from __future__ import annotations

import argparse
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lime.runtime.registry import Image, Tool, ToolContext, ToolResult
from lime.textsafe import sanitize

if TYPE_CHECKING:
    from lime.mcp.manager import Servers
    from lime.mcp.tools import McpTool
    from lime.runtime.agent import Agent


class McpRegistryTool(Tool):
    """One MCP server's tool in the registry's shape."""

    def __init__(self, tool: McpTool, progress: Callable[[str], None] | None) -> None:
        self.tool = tool
        self.name, self.description, self.parameters = tool.name, tool.description, tool.parameters
        self.kind = "read" if tool.kind == "read" else "execute"
        self.progress = progress

    def run(self, args: dict[str, Any], context: ToolContext) -> ToolResult:
        report = self.progress  # with -v, also a notice line

        def progress(text: str) -> None:
            context.progress(text)
            if report is not None:
                report(f"{self.name}: {text}")

        out = self.tool.run(args, progress)
        return ToolResult(out.text, "error" if out.is_error else "ok",
                          images=[Image(mime, data) for mime, data in out.images])


class McpSession:
    def __init__(self, servers: Servers, say: Callable[[str], None], verbose: bool) -> None:
        self.servers = servers
        self.say = say
        self.verbose = verbose
        self.agent: Agent | None = None
        self._started = threading.Event()
        self._refreshing = threading.Lock()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the servers on a thread: the session opens meanwhile; ``tools()`` waits for them."""
        if any(s.cfg.type == "stdio" for s in self.servers.servers.values()):
            from lime.mcp.stdio import install_exit_hooks

            install_exit_hooks()
        import atexit

        atexit.register(self.servers.stop)
        self._thread = threading.Thread(target=self._run, daemon=True, name="mcp-start")
        self._thread.start()

    def _run(self) -> None:
        try:
            self.servers.start()
        finally:
            self._started.set()

    def build(self) -> list[Tool]:
        from lime.mcp.client import secrets_of
        from lime.mcp.tools import make_tools

        out: list[Tool] = []
        taken: set[str] = set()
        for s in self.servers.connected():
            assert s.client is not None
            tools, notes = make_tools(s.cfg, s.client.tools, self.servers.call, taken, secrets_of(s.cfg))
            for note in notes:
                self.say(note)
            out.extend(McpRegistryTool(t, self.say if self.verbose else None) for t in tools)
        return out

    def tools(self) -> Iterator[Tool]:
        """The servers' tools, once they started (iterated by the session factory)."""
        self._started.wait()
        yield from self.build()

    def attach(self, agent: Agent) -> None:
        self.agent = agent

    def refresh(self, server: str) -> None:
        """A server's tool list changed: swap its tools in the registry."""
        agent = self.agent
        registry = getattr(agent, "registry", None)
        if registry is None:
            return
        prefix = f"mcp__{server}__"
        with self._refreshing:
            try:
                for name in registry.names():
                    if name.startswith(prefix):
                        registry.remove(name)
                for tool in self.build():
                    if tool.name.startswith(prefix) and tool.name not in registry:
                        registry.add(tool)
            except Exception as exc:  # a server's odd list must not end the thread that reads it
                self.say(f"MCP server {sanitize(server)}: cannot update its tools ({type(exc).__name__})")
                return
        if self.verbose:
            self.say(f"MCP server {sanitize(server)}: tool list changed")

    def lines(self) -> list[str]:
        """What ``/mcp`` and ``lime mcp list`` show: one line per server."""
        out = []
        for s in self.servers.servers.values():
            state = s.state
            detail = f"{s.tool_count} tools" if state == "connected" else sanitize(s.error)[:100]
            out.append(f"{s.cfg.name}  {state}  {s.cfg.type}  {detail}  ({s.cfg.scope})")
        return out


# The servers of the running chat, for ``/mcp``.
CURRENT: McpSession | None = None


def start_for_chat(args: argparse.Namespace, *, trusted: bool, roots: list[Path], say: Callable[[str], None],
                   notice: Callable[[str], None]) -> McpSession | None:
    """The configured servers of this chat, starting; None when none is configured."""
    from lime.cli.mcp_setup import configured

    found, root, unapproved = configured(args, say, trusted=trusted, ask=True)
    if not found:
        return None
    from lime.mcp.client import Hooks
    from lime.mcp.manager import Servers

    verbose = bool(getattr(args, "verbose", False))
    session: McpSession | None = None

    def log(server: str, text: str) -> None:
        say(f"mcp {sanitize(server)}: {sanitize(text)}")

    def changed(server: str) -> None:
        if session is not None:
            session.refresh(server)

    hooks = Hooks(roots=roots or [root], log=log if verbose else None, note=notice, tools_changed=changed,
                  elicit=elicit)
    servers = Servers(found, root, hooks, say, unapproved=unapproved)
    session = McpSession(servers, say, verbose)
    hooks.sample = _sampler(session)
    global CURRENT
    CURRENT = session
    session.start()
    return session


# -- what a server may ask of the user ---------------------------------------------------------------

_asking = threading.Lock()


def _terminal() -> bool:
    import sys

    return sys.stdin is not None and sys.stdin.isatty() and sys.stderr.isatty()


def _ask(text: str) -> str:
    import sys

    with _asking:
        sys.stderr.write(text)
        sys.stderr.flush()
        try:
            return sys.stdin.readline().strip()
        except (KeyboardInterrupt, OSError):
            return ""


def _sampler(session: McpSession) -> Callable[[str, Any], Any]:
    """``sampling/createMessage``: the current model answers, once the user said yes on a terminal."""
    from lime.mcp.rpc import RpcError

    def sample(server: str, params: Any) -> Any:
        if not _terminal() or session.agent is None:
            raise RpcError(-1, "sampling was refused: lime has no terminal to ask the user on")
        params = params if isinstance(params, dict) else {}
        messages: list[dict[str, Any]] = []
        system = params.get("systemPrompt")
        if isinstance(system, str) and system:
            messages.append({"role": "system", "content": system})
        for m in params.get("messages") or []:
            content = m.get("content") if isinstance(m, dict) else None
            if isinstance(content, dict) and content.get("type") == "text" and isinstance(content.get("text"), str):
                role = "assistant" if m.get("role") == "assistant" else "user"
                messages.append({"role": role, "content": content["text"]})
        if not any(m["role"] == "user" for m in messages):
            raise RpcError(-32602, "sampling needs at least one text message from the user role")
        shown = sanitize(messages[-1]["content"])[:500]
        answer = _ask(f"\nlime: MCP server {sanitize(server)} asks the model ({len(messages)} messages; last: "
                      f"{shown!r}).\n  Send it to {session.agent.route.slug}? [y]es / [n]o: ")
        if answer.lower() not in ("y", "yes"):
            raise RpcError(-1, "the user declined the sampling request")
        from lime.providers.openai_compat.client import ChatClient
        from lime.providers.openai_compat.types import RequestOptions

        limit = params.get("maxTokens")
        route = session.agent.route
        client = ChatClient(route)
        try:
            done = client.complete(messages, RequestOptions(  # type: ignore[arg-type,unused-ignore]
                max_tokens=min(limit, 8192) if isinstance(limit, int) and limit > 0 else None, stream=False))
        finally:
            client.close()
        return {"role": "assistant", "content": {"type": "text", "text": done.text}, "model": route.slug,
                "stopReason": "maxTokens" if done.finish_reason == "length" else "endTurn"}

    return sample


def elicit(server: str, params: Any) -> Any:
    """``elicitation/create``: the user answers each field on a terminal, or declines."""
    if not _terminal():
        return {"action": "decline"}
    params = params if isinstance(params, dict) else {}
    schema = params.get("requestedSchema")
    props = schema.get("properties") if isinstance(schema, dict) else None
    props = props if isinstance(props, dict) else {}
    message = sanitize(str(params.get("message", "")))[:1000]
    if _ask(f"\nlime: MCP server {sanitize(server)} asks: {message}\n  Answer? [y]es / [n]o: ").lower() not in ("y", "yes"):
        return {"action": "decline"}
    content: dict[str, Any] = {}
    for name, spec in list(props.items())[:20]:
        spec = spec if isinstance(spec, dict) else {}
        kind = spec.get("type", "string")
        label = sanitize(str(spec.get("title") or spec.get("description") or name))[:200]
        raw = _ask(f"  {label} ({kind}): ")
        if raw == "":
            continue
        if kind == "boolean":
            content[name] = raw.lower() in ("y", "yes", "true", "1")
        elif kind in ("number", "integer"):
            try:
                content[name] = int(raw) if kind == "integer" else float(raw)
            except ValueError:
                return {"action": "cancel"}
        else:
            content[name] = raw
    return {"action": "accept", "content": content}
