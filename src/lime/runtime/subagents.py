"""The ``agent`` tool: run a sub-agent, a child agent loop with its own conversation, and hand its
final answer back to the parent as the tool's result (Lime's "Sub-agents").

A child's system prompt is lime's worker preamble and the definition's prompt, then the session's
other layers (its own tools and mode, memory, project instructions); its first message is the
task, and nothing of the parent's conversation comes with it. Its tools are the parent's, narrowed by the definition (``tools``,
``disallowed_tools``; never the ``agent`` tool itself, so children do not nest), and its
permission mode is its own only where that is stricter than the parent's (``cap_mode``). The
parent's rules, ``--allowedTools`` and "always" answers apply to it too.

Several ``agent`` calls in one reply run at the same time: the tool's kind is ``read`` (starting a
child changes nothing by itself; every call the child makes is checked on its own), so the
executor runs them side by side. Their approvals go through the parent's approver one at a time,
each labelled with the agent's name and asked from the thread that waits for them (``mainthread``);
Ctrl-C cancels all of them (``cancel``). Each child's
conversation is written to the session file as a side chain, and its token usage is returned with
its result so the parent's turn counts it.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import json
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lime.errors import ConfigError, LimeError
from lime.runtime import events as ev
from lime.runtime.agent import Agent, Cancelled
from lime.runtime.agent_defs import NAME_RE, AgentDef, Catalog, cap_mode
from lime.runtime.executor import offered
from lime.runtime.mainthread import MainThread
from lime.runtime.permissions import Policy, Rule, Verdict, _Call, parse_rule
from lime.runtime.registry import Tool, ToolContext, ToolRegistry, ToolResult
from lime.runtime.tools import MAX_OUTPUT_CHARS, canonical

if TYPE_CHECKING:
    from collections.abc import Callable

    from lime.catalog.routing import Route
    from lime.providers.openai_compat.types import ToolSpec
    from lime.runtime.executor import Approval, Approver, PlanReview
    from lime.runtime.prompt import Inputs
    from lime.runtime.workspace import Workspace

AGENT_TOOL = "agent"
# Tools a child is never given: it cannot start children of its own or leave a plan mode it did not enter.
NOT_FOR_CHILDREN = {AGENT_TOOL, "exit_plan_mode"}
MAX_ANSWER_CHARS = MAX_OUTPUT_CHARS


@dataclass
class ScopedPolicy(Policy):
    """The parent's policy for a child: ``only`` narrows patterned tools (``Bash(git diff:*)``) to
    the calls that match them."""

    only: list[Rule] = field(default_factory=list)
    agent: str = ""

    def check(self, tool: Tool, args: dict[str, Any], ws: Workspace) -> Verdict:
        name = canonical(tool.name)
        mine = [r for r in self.only if r.covers(name)]
        if mine and not _Call.of(name, args, ws).allowed_by(mine):
            allowed = ", ".join(r.text for r in mine)
            return Verdict("deny", f"the {self.agent} agent may use {name} only as {allowed}")
        return super().check(tool, args, ws)


def _rules(entries: tuple[str, ...], origin: str) -> list[Rule]:
    """Tool entries as rules; a name lime does not know (an MCP tool not connected yet) stands for itself."""
    out: list[Rule] = []
    for text in entries:
        try:
            out.append(parse_rule(text, "agent", origin))
        except ConfigError:
            if NAME_RE.fullmatch(text.lower()) or text.startswith("mcp__"):
                out.append(Rule((text,), None, text, "agent", origin))
    return out


def child_policy(parent: Policy, agent: AgentDef) -> ScopedPolicy:
    """The parent's rules and tool set, in the stricter of the two modes, narrowed by the definition."""
    origin = f"the {agent.name} agent"
    mode = cap_mode(parent.mode, agent.permission_mode)
    policy = ScopedPolicy(mode=mode, allow=list(parent.allow), ask=list(parent.ask), deny=list(parent.deny),
                          enabled=set(parent.enabled) if parent.enabled is not None else None,
                          mode_origin=origin if mode != parent.mode else parent.mode_origin,
                          sandbox_setting=parent.sandbox_setting, agent=agent.name)
    policy.session_allowed = parent.session_allowed  # "always" answers hold for the whole run
    policy.only = [r for r in _rules(agent.tools or (), origin) if r.pattern is not None]
    policy.deny.extend(r for r in _rules(agent.disallowed_tools, origin) if r.pattern is not None)
    return policy


def child_registry(parent: ToolRegistry, agent: AgentDef) -> ToolRegistry:
    """The parent's tools the definition keeps."""
    origin = f"the {agent.name} agent"
    wanted = _rules(agent.tools, origin) if agent.tools is not None else None
    dropped = [r for r in _rules(agent.disallowed_tools, origin) if r.pattern is None]
    registry = ToolRegistry(aliases=parent.aliases)
    for tool in parent:
        name = parent.canonical(tool.name)
        if name in NOT_FOR_CHILDREN or any(r.covers(name) for r in dropped):
            continue
        if wanted is not None and not any(r.covers(name) for r in wanted):
            continue
        registry.add(tool, builtin=parent.is_builtin(tool.name))
    return registry


class Labelled:
    """The parent's approver for a child: one question at a time, each naming the agent, asked on
    the thread that waits for the children (``MainThread``)."""

    def __init__(self, parent: Approver, agent: str, lock: threading.Lock, cancelled: threading.Event,
                 main: MainThread) -> None:
        self.parent, self.agent, self.lock, self.cancelled, self.main = parent, agent, lock, cancelled, main

    def ask(self, tool: Tool, args: dict[str, Any], why: str = "") -> Approval | None:
        label = f"asked by the {self.agent} sub-agent" + (f"; {why}" if why else "")

        def question() -> Approval | None:
            with self.lock:
                if self.cancelled.is_set():  # a question still waiting when Ctrl-C came is not asked
                    return "no"
                return self.parent.ask(tool, args, label)

        answer: Approval | None = self.main.call(question)
        return answer

    def review_plan(self, plan: str, path: str) -> PlanReview | None:
        return None


class _Client:
    """A child's model client that can be hung up from another thread (Ctrl-C in the parent)."""

    def __init__(self, inner: Any, cancelled: threading.Event) -> None:
        self.inner, self.cancelled = inner, cancelled
        self.live: Any = None

    def stream(self, messages: Any, options: Any) -> Any:
        if self.cancelled.is_set():
            raise KeyboardInterrupt
        self.live = self.inner.stream(messages, options)
        return self.live

    def complete(self, messages: Any, options: Any) -> Any:
        if self.cancelled.is_set():
            raise KeyboardInterrupt
        return self.inner.complete(messages, options)

    def abort(self) -> None:
        live = self.live
        if live is not None:
            live.close()

    def close(self) -> None:
        self.inner.close()


class Child(Agent):
    """A sub-agent's loop: an ``Agent`` whose requests stop when the parent is interrupted."""

    cancelled: threading.Event

    @property
    def client(self) -> Any:
        if self._client is None:
            from lime.providers.openai_compat.client import ChatClient

            inner = ChatClient(self.route, verbose=self.settings.verbose, notice=self.notify)
            self._client = _Client(inner, self.cancelled)
        return self._client

    def abort(self) -> None:
        self.cancelled.set()
        if isinstance(self._client, _Client):
            self._client.abort()


class Relay:
    """What the user sees of a child: its tool calls and notices, on the parent's stream, labelled.
    After a cancel every event of the child raises KeyboardInterrupt in the child's thread."""

    def __init__(self, parent: Agent, agent: str, lock: threading.Lock, cancelled: threading.Event) -> None:
        self.parent, self.agent, self.lock, self.cancelled = parent, agent, lock, cancelled

    def __call__(self, event: ev.Event) -> None:
        if self.cancelled.is_set() and not isinstance(event, ev.TurnCancelled | ev.AnswerEnded):
            raise KeyboardInterrupt
        text: str | None = None
        if isinstance(event, ev.ToolRequested):
            args = json.dumps(event.args, ensure_ascii=False)[:120] if event.args else ""
            text = f"{event.call.name} {args}".rstrip()
        elif isinstance(event, ev.Notice):
            text = event.text
        if text is not None:
            with self.lock:
                self.parent.events.emit(ev.Notice(self.parent.workspace.scrub(f"[{self.agent}] {text}")))


class AgentTool(Tool):
    """The ``agent`` tool of one session."""

    name = AGENT_TOOL
    kind = "read"

    def __init__(self, catalog: Catalog, resolve: Callable[[str], Route] | None = None,
                 prompt: Inputs | None = None) -> None:
        self.catalog = catalog
        self.resolve = resolve  # a model slug to a ready route (the session factory's, endpoint included)
        self.prompt = prompt  # the session's prompt layers: a child shares all but the base and --system
        self._children: set[Child] = set()
        self._lock = threading.Lock()  # the children's set
        self._ask = threading.Lock()  # one approval question at a time
        self._say = threading.Lock()  # one line at a time on the parent's stream
        listed = "\n".join(f"- {a.name}: {a.description}" for a in catalog.agents.values())
        self.description = (
            "Start a sub-agent: a separate conversation that works on one task with its own tools and "
            "returns only its final answer. Give it everything it needs in the prompt: it sees nothing "
            "of this conversation. Several agent calls in one reply run at the same time. Agents:\n" + listed)
        self.parameters = {
            "type": "object",
            "properties": {
                "type": {"type": "string", "enum": catalog.names, "description": "which agent to start"},
                "prompt": {"type": "string", "description": "the complete task for the sub-agent"},
                "description": {"type": "string", "description": "a few words saying what it is for"},
            },
            "required": ["type", "prompt"],
            "additionalProperties": False,
        }

    def cancel(self) -> None:
        """Ctrl-C in the parent: every running child stops at once."""
        with self._lock:
            children = list(self._children)
        for child in children:
            child.abort()

    def run(self, args: dict[str, Any], context: ToolContext) -> ToolResult:
        kind = args.get("type", args.get("subagent_type"))
        prompt = args.get("prompt")
        if not isinstance(kind, str) or not kind.strip():
            return ToolResult(f"error: type is required (one of {', '.join(self.catalog.names)})", "error")
        if not isinstance(prompt, str) or not prompt.strip():
            return ToolResult("error: prompt is required: the task for the sub-agent", "error")
        agent = self.catalog.get(kind)
        if agent is None:
            return ToolResult(f"error: unknown agent {kind[:60]!r}; available: {', '.join(self.catalog.names)}",
                              "error")
        parent = context.agent
        if not isinstance(parent, Agent):
            return ToolResult("error: sub-agents run only inside a conversation", "error")
        try:
            child = self._spawn(parent, agent, context.workspace)
        except LimeError as exc:
            return ToolResult(f"error: cannot start the {agent.name} agent: {exc}", "error")
        with self._lock:
            self._children.add(child)
        try:
            return self._run(child, agent, prompt)
        finally:
            with self._lock:
                self._children.discard(child)

    def _run(self, child: Child, agent: AgentDef, prompt: str) -> ToolResult:
        """Run the child in a thread of its own and wait for it; a cancel does not wait for a request
        blocked on a silent server (the thread ends with the process, or when the read returns)."""
        box: dict[str, Any] = {}
        done = threading.Event()

        def work() -> None:
            try:
                box["result"] = child.run(prompt)
            except BaseException as exc:  # noqa: BLE001 - handed to the waiting thread
                box["error"] = exc
            finally:
                child.close()
                done.set()

        threading.Thread(target=work, name=f"agent-{agent.name}", daemon=True).start()
        cancelled = ToolResult(f"cancelled: the {agent.name} sub-agent was interrupted", "denied")
        main = self._main(child)
        in_main = threading.current_thread() is threading.main_thread()
        try:
            with main.serving() if in_main else contextlib.nullcontext():
                try:
                    while not done.wait(0.05):
                        if child.cancelled.is_set():
                            return cancelled
                        if in_main:
                            main.serve()
                except KeyboardInterrupt:  # Ctrl-C reached this thread: stop the child, then the parent's turn
                    child.abort()
                    raise
        except KeyboardInterrupt:
            done.wait(0.5)
            raise
        error = box.get("error")
        if isinstance(error, Cancelled | KeyboardInterrupt):
            return cancelled
        if isinstance(error, LimeError):
            return ToolResult(f"error: the {agent.name} sub-agent failed: {error}", "error")
        if error is not None:
            raise error
        result = box["result"]
        text = result.text.strip() or f"(the {agent.name} sub-agent gave no answer)"
        if len(text) > MAX_ANSWER_CHARS:  # like any tool's output: one answer cannot flood the parent's window
            text = text[:MAX_ANSWER_CHARS] + f"\n[{len(text) - MAX_ANSWER_CHARS} more characters of the answer cut]"
        if result.stopped == "max_turns":
            text += f"\n[the {agent.name} sub-agent stopped at its limit of {child.settings.max_turns} requests]"
        return ToolResult(text, usage=result.usage)

    def _system_prompt(self, agent: AgentDef, mode: str, specs: list[ToolSpec] | None, route: Route,
                       workspace: Workspace, registry: ToolRegistry) -> str:
        """The worker preamble and the agent's own prompt in place of lime's base prompt, then the
        session's other layers (the child's tools and mode, memory, project instructions)."""
        if self.prompt is None:
            return agent.system_prompt() + f"\n\nWorking directory: {workspace.cwd}"
        from lime.runtime.prompt import Layer, assemble

        inputs = dataclasses.replace(self.prompt, system=None, env=dataclasses.replace(self.prompt.env, mode=mode))
        built = assemble(inputs, tools=specs, window=route.entry.context_window, builtin=registry.is_builtin)
        own = agent.system_prompt()
        built.layers[0] = Layer("base", f"the {agent.name} agent", own, len(own))
        return built.text

    @staticmethod
    def _main(child: Child) -> MainThread:
        approver = child.approver
        return approver.main if isinstance(approver, Labelled) else MainThread()

    def _spawn(self, parent: Agent, agent: AgentDef, workspace: Workspace) -> Child:
        route = parent.route
        settings = dataclasses.replace(parent.settings, response_format=None,
                                       max_turns=agent.max_turns or parent.settings.max_turns)
        if agent.model is not None and agent.model != route.slug:
            if self.resolve is None:
                raise LimeError(f"model {agent.model} cannot be reached from here")
            route = self.resolve(agent.model)
            settings.reasoning = settings.verbosity = None  # the parent's levels were checked for its model
        policy = child_policy(parent.policy, agent)
        ws = copy.copy(workspace)
        ws.sandbox = policy.sandboxed or workspace.sandbox
        registry = child_registry(parent.registry, agent)
        specs = ([t.spec() for t in offered(registry, policy)]
                 if settings.tools_enabled and route.capabilities.tools else None)
        system = self._system_prompt(agent, policy.mode, specs, route, workspace, registry)
        session = parent.session.side_chain(agent.name, model=route.slug, system=system)
        cancelled = threading.Event()
        bus = ev.EventBus()
        bus.subscribe(Relay(parent, agent.name, self._say, cancelled))
        approver = Labelled(parent.approver, agent.name, self._ask, cancelled, parent.executor.main)
        child = Child(route, session, policy=policy, workspace=ws, settings=settings, events=bus,
                      registry=registry, approver=approver,
                      prepare=parent.prepare, recover=parent.recover)
        child.cancelled = cancelled
        # The parent's seams watch its children's calls too: the user's PreToolUse/PostToolUse hooks
        # run for them, and a rewind restores the files a child wrote (its writes are checkpointed).
        ex, mine = child.executor, parent.executor
        ex.before_tool += mine.before_tool
        ex.before_run += mine.before_run
        ex.after_tool += mine.after_tool
        ex.serial = ex.serial or mine.serial
        return child
