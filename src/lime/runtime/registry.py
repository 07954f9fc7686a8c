"""The tool registry: one shape for every tool a model may call, and the set offered in a session.

A ``Tool`` has a name, a description, a JSON Schema for its arguments and a ``kind`` (read, edit,
execute, network, other) that the permission policy decides on; ``run(args, context)`` returns a
``ToolResult`` (text, optional images, a status). Built-in tools (``tools.py``), the plan tool and
whatever an adapter hands in (MCP tools, sub-agents) all take this shape, so permission rules,
``--allowedTools``, plan mode and approvals treat them alike: every call goes through
``executor.Executor``. The session factory (``setup.py``) builds the registry.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from lime.errors import ConfigError
from lime.providers.openai_compat.types import ToolSpec
from lime.runtime.workspace import ToolFailure, display

if TYPE_CHECKING:
    from lime.providers.openai_compat.types import Usage
    from lime.runtime.workspace import Workspace

Kind = Literal["read", "edit", "execute", "network", "other"]
KINDS: tuple[str, ...] = ("read", "edit", "execute", "network", "other")

# What the Chat Completions API accepts as a function name.
NAME_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")

# Tools that adapters hand in (MCP servers' tools) are named mcp__SERVER__TOOL; permission rules
# may name them before the server has been reached.
EXTERNAL_PREFIX = "mcp__"

# Names only lime's own tools may take (their earlier names included): a tool handed in by an
# adapter cannot pass itself off as one the user's rules and approvals already know.
RESERVED_NAMES = frozenset({
    "read_file", "write_file", "edit_file", "glob_search", "grep_search", "bash",
    "list_files", "grep", "shell", "exit_plan_mode", "agent", "skill",
})


class Image:
    """An image a tool returns for the model to see (base64 data)."""

    __slots__ = ("data", "media_type")

    def __init__(self, media_type: str, data: str) -> None:
        self.media_type, self.data = media_type, data


@dataclass
class ToolResult:
    """What a tool call returns: text for the model, optional images, and how it went."""

    content: str
    status: Literal["ok", "error", "denied"] = "ok"
    images: list[Image] = field(default_factory=list)
    # The turn ends after this result (the plan tool without a terminal to approve on).
    stop: bool = False
    # Tokens of the model requests the tool made (a sub-agent's): counted in the parent's turn.
    usage: Usage | None = None

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def is_error(self) -> bool:
        return self.status != "ok"

    @property
    def text(self) -> str:
        return self.content


def _quiet(text: str) -> None:
    pass


class ToolContext:
    """What a running tool may use: the workspace its paths go through, a way to tell the user
    something (``notice``; ``progress`` for its status while it runs), and the session it runs in. ``agent`` is the running agent (for tools that start
    another conversation); ``call_id`` the id of the call being run."""

    def __init__(self, workspace: Workspace, notice: Callable[[str], None] = _quiet, call_id: str = "",
                 session_id: str = "", agent: Any = None, progress: Callable[[str], None] = _quiet) -> None:
        self.workspace, self.notice, self.call_id, self.session_id, self.agent = (
            workspace, notice, call_id, session_id, agent)
        self.progress = progress  # a line for the call's status while it runs (a ToolProgress event)


class Tool:
    """The shape of every tool. Subclasses set the four attributes and implement ``run``.

    ``run`` may raise ``workspace.ToolFailure`` (or any exception): the executor turns it into an
    error result the model reads, so a tool never ends the turn by failing."""

    name: str
    description: str
    parameters: dict[str, Any]
    kind: Kind

    def run(self, args: dict[str, Any], context: ToolContext) -> ToolResult:
        raise NotImplementedError

    @property
    def concurrent(self) -> bool:
        """May several calls run at once (in threads) when the rules allow them unasked? Reads may."""
        return self.kind == "read"

    def spec(self) -> ToolSpec:
        return ToolSpec(self.name, self.description, self.parameters)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name} ({self.kind})>"


Runner = Callable[["Workspace", dict[str, Any]], str]


class FunctionTool(Tool):
    """A tool made from a function ``(workspace, args) -> text`` (the built-ins)."""

    def __init__(self, name: str, description: str, parameters: dict[str, Any], kind: Kind, fn: Runner) -> None:
        self.name, self.description, self.parameters, self.kind, self.fn = name, description, parameters, kind, fn

    def run(self, args: dict[str, Any], context: ToolContext) -> ToolResult:
        return ToolResult(self.fn(context.workspace, args))


def check_tool(tool: Tool, *, builtin: bool) -> None:
    """A tool the registry can offer: a valid, unreserved name (for non-built-ins), a known kind,
    an object schema."""
    name = getattr(tool, "name", None)
    if not isinstance(name, str) or not NAME_RE.fullmatch(name):
        raise ConfigError(f"tool name {name!r} is not valid (1-64 letters, digits, '_' or '-')")
    if not builtin and name in RESERVED_NAMES:
        raise ConfigError(f"tool name {name!r} is reserved for lime's own tools")
    if getattr(tool, "kind", None) not in KINDS:
        raise ConfigError(f"tool {name}: kind must be one of {', '.join(KINDS)}")
    params = getattr(tool, "parameters", None)
    if not isinstance(params, dict) or params.get("type", "object") != "object":
        raise ConfigError(f"tool {name}: parameters must be a JSON Schema object")


class ToolRegistry:
    """The tools of one session, by name (earlier names of built-ins resolve too)."""

    def __init__(self, builtins: Iterable[Tool] = (), aliases: dict[str, str] | None = None) -> None:
        self._tools: dict[str, Tool] = {}
        self._builtin: set[str] = set()
        self.aliases = dict(aliases or {})
        for tool in builtins:
            self.add(tool, builtin=True)

    def add(self, tool: Tool, *, builtin: bool = False) -> Tool:
        check_tool(tool, builtin=builtin)
        if tool.name in self._tools or tool.name in self.aliases:
            raise ConfigError(f"two tools are named {tool.name!r}")
        self._tools[tool.name] = tool
        if builtin:
            self._builtin.add(tool.name)
        return tool

    def remove(self, name: str) -> None:
        self._tools.pop(name, None)
        self._builtin.discard(name)

    def get(self, name: str) -> Tool | None:
        return self._tools.get(name) or self._tools.get(self.aliases.get(name, ""))

    def canonical(self, name: str) -> str:
        return self.aliases.get(name, name)

    def is_builtin(self, name: str) -> bool:
        return self.canonical(name) in self._builtin

    def names(self) -> list[str]:
        return list(self._tools)

    def __iter__(self) -> Iterator[Tool]:
        return iter(list(self._tools.values()))

    def __len__(self) -> int:
        return len(self._tools)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name) is not None


def invoke(tool: Tool, args: dict[str, Any], context: ToolContext) -> ToolResult:
    """Run one tool; whatever it raises comes back as an error result, every text masked for keys."""
    ws = context.workspace
    try:
        result = tool.run(args, context)
        if not isinstance(result, ToolResult):
            raise TypeError(f"returned {type(result).__name__}, not a ToolResult")
    except ToolFailure as exc:
        return ToolResult(ws.scrub(f"error: {exc}"), "error")
    except OSError as exc:
        return ToolResult(ws.scrub(f"error: {display(exc.strerror or str(exc))}"), "error")
    except Exception as exc:  # a bad argument nobody foresaw: the model reads why, the run goes on
        return ToolResult(ws.scrub(f"error: {tool.name} could not use these arguments "
                                   f"({type(exc).__name__}: {display(str(exc))[:300]})"), "error")
    result.content = ws.scrub(result.content)
    return result
