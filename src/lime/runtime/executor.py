"""The one path a tool call takes: look the tool up in the registry, read its arguments, decide
(permission mode and rules, ``--allowedTools``, plan mode, the user's approval through the
``Approver``), run it, and report each step on the event stream.

``before_tool`` and ``after_tool`` are the seams for hooks: a ``before`` hook runs ahead of the
permission decision and may refuse the call (a ``ToolResult``) or answer with a ``PreToolAnswer``
(ask the user, allow without asking, or new arguments, which the rules then check like any other:
no answer loosens a deny); an ``after`` hook may replace the result.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal, Protocol

from lime.runtime import events as ev
from lime.runtime.mainthread import MainThread
from lime.runtime.registry import Tool, ToolContext, ToolRegistry, ToolResult, invoke
from lime.runtime.tools import parse_arguments
from lime.runtime.workspace import ToolFailure

if TYPE_CHECKING:
    from concurrent.futures import Future

    from lime.providers.openai_compat.types import ToolCall
    from lime.runtime.permissions import Policy
    from lime.runtime.plan import Plan
    from lime.runtime.workspace import Workspace

Approval = Literal["yes", "no", "always"]


class PlanReview:
    """The user's answer to a plan: approved (and the mode to continue in) or not, with feedback."""

    def __init__(self, approved: bool, mode: str = "default", feedback: str = "") -> None:
        self.approved, self.mode, self.feedback = approved, mode, feedback


class Approver(Protocol):
    """Who answers when a call needs the user (the terminal; None: nobody can be asked)."""

    def ask(self, tool: Tool, args: dict[str, Any], why: str = "") -> Approval | None: ...
    def review_plan(self, plan: str, path: str) -> PlanReview | None: ...


class NoApprover:
    """Nobody to ask: calls that need approval are refused, plans are not approved."""

    def ask(self, tool: Tool, args: dict[str, Any], why: str = "") -> Approval | None:
        return None

    def review_plan(self, plan: str, path: str) -> PlanReview | None:
        return None


def offered(registry: ToolRegistry, policy: Policy) -> list[Tool]:
    """The tools of ``registry`` offered under ``policy``: --allowedTools' set; in plan mode the
    read-only ones and ``exit_plan_mode`` (only there)."""
    from lime.runtime.plan import EXIT_PLAN_MODE

    tools = policy.offered(t for t in registry if t.name != EXIT_PLAN_MODE)
    exit_plan = registry.get(EXIT_PLAN_MODE)
    if policy.mode == "plan" and exit_plan is not None:
        tools.append(exit_plan)
    return tools


class PreToolAnswer:
    """A ``before_tool`` hook's answer: ``decision`` "allow", "ask" or "deny" (or None), and
    ``args`` to run the call with instead (None: unchanged)."""

    __slots__ = ("args", "decision", "reason")

    def __init__(self, decision: str | None, reason: str = "", args: dict[str, Any] | None = None) -> None:
        self.decision, self.reason, self.args = decision, reason, args


BeforeTool = Callable[["ToolCall", Tool, dict[str, Any]], "ToolResult | PreToolAnswer | None"]
AfterTool = Callable[["ToolCall", Tool, dict[str, Any], ToolResult], "ToolResult | None"]


# Plain classes rather than dataclasses: each dataclass costs about a millisecond when a one-shot starts.
class Outcome:
    """A call and how it was answered."""

    __slots__ = ("args", "call", "result")

    def __init__(self, call: ToolCall, args: dict[str, Any] | None, result: ToolResult) -> None:
        self.call, self.args, self.result = call, args, result


class _Prepared:
    __slots__ = ("args", "call", "early", "tool")

    def __init__(self, call: ToolCall, tool: Tool | None, args: dict[str, Any] | None,
                 early: ToolResult | None) -> None:
        self.call, self.tool, self.args, self.early = call, tool, args, early


class Executor:
    def __init__(self, registry: ToolRegistry, policy: Policy, workspace: Workspace, events: ev.EventBus,
                 approver: Approver | None = None, plan: Plan | None = None, *, agent: Any = None) -> None:
        self.registry = registry
        self.policy = policy
        self.workspace = workspace
        self.events = events
        self.approver: Approver = approver or NoApprover()
        self.plan = plan
        # Hooks (see the module's docstring), run in order.
        self.before_tool: list[BeforeTool] = []
        self.after_tool: list[AfterTool] = []
        # True: every call runs in order through ``before_tool`` (PreToolUse hooks); otherwise reads
        # the rules allow may run in parallel without the ``before_tool`` hooks.
        self.serial = False
        # Observers that see a call once it is allowed, just before it runs (file checkpoints):
        # unlike ``before_tool`` they cannot change a decision, so calls still run concurrently.
        self.before_run: list[Callable[[ToolCall, Tool, dict[str, Any]], None]] = []
        # The running agent, for tools that need it (``ToolContext.agent``).
        self.agent = agent
        # Questions from tools' own threads, asked on the thread that waits for them.
        self.main = MainThread()

    def offered(self) -> list[Tool]:
        """The tools the model is told about in the current mode."""
        return offered(self.registry, self.policy)

    def notice(self, text: str) -> None:
        self.events.emit(ev.Notice(text))

    def context(self, call_id: str = "", workspace: Workspace | None = None) -> ToolContext:
        session = getattr(self.agent, "session", None)
        events = self.events
        return ToolContext(workspace or self.workspace, self.notice, call_id,
                           getattr(session, "id", ""), self.agent,
                           progress=lambda text: events.emit(ev.ToolProgress(call_id, text)))

    # -- a batch of calls -----------------------------------------------------------------

    def run_calls(self, calls: list[ToolCall], *, run: bool, offered: bool) -> list[Outcome]:
        """Every call answered, in order. ``run`` False: the turn limit was reached; ``offered``
        False: no tools were offered (a server that invents calls must not get them run).

        Calls of tools that may run concurrently (reads) and need no approval run in parallel;
        the rest run in order. On Ctrl-C the
        calls not finished get a "cancelled" result and KeyboardInterrupt is raised again."""
        prepared = [self._prepare(call, run=run, offered=offered) for call in calls]
        outcomes: dict[str, ToolResult] = {}
        parallel = [p for p in prepared if not self.serial and p.early is None and p.tool is not None and p.args is not None
                    and p.tool.concurrent and self.policy.decide(p.tool, p.args, self.workspace) == "allow"]
        interrupted = False
        try:
            if len(parallel) > 1:
                for p in parallel:
                    self.events.emit(ev.ToolRequested(p.call, p.args))
                    self.events.emit(ev.PermissionDecided(p.call, "allow", "", "policy"))
                from concurrent.futures import ThreadPoolExecutor  # only when tools run in parallel

                with ThreadPoolExecutor(max_workers=min(8, len(parallel))) as pool:
                    futures = {p.call.id: pool.submit(self._invoke, p.call, p.tool, p.args)  # type: ignore[arg-type]
                               for p in parallel}
                    with self.main.serving():  # their questions to the user are asked from this thread
                        try:
                            for p in parallel:
                                outcomes[p.call.id] = self._wait(futures[p.call.id])
                                self.events.emit(ev.ToolFinished(p.call, outcomes[p.call.id]))
                        except KeyboardInterrupt:
                            # Before the pool waits for its threads: tools that can stop early (sub-agents) stop.
                            for p in parallel:
                                cancel = getattr(p.tool, "cancel", None)
                                if callable(cancel):
                                    cancel()
                            raise
            for p in prepared:
                if p.call.id in outcomes:
                    continue
                self.events.emit(ev.ToolRequested(p.call, p.args))
                if p.early is not None:
                    result = p.early
                else:
                    assert p.tool is not None and p.args is not None
                    result = self._run_one(p.call, p.tool, p.args)
                outcomes[p.call.id] = result
                self.events.emit(ev.ToolFinished(p.call, result))
                if result.stop:
                    break
        except KeyboardInterrupt:
            interrupted = True
        done = [Outcome(p.call, p.args, outcomes.get(p.call.id) or ToolResult(
            "cancelled: the user interrupted this tool call" if interrupted else
            "not run: the turn ended before this call", "denied")) for p in prepared]
        if interrupted:
            raise Interrupted(done)
        return done

    def _wait(self, future: Future[ToolResult]) -> ToolResult:
        while True:
            try:
                return future.result(timeout=0.05)
            except TimeoutError:
                self.main.serve()

    def _prepare(self, call: ToolCall, *, run: bool, offered: bool) -> _Prepared:
        tool = self.registry.get(call.name)
        if not run:
            return _Prepared(call, tool, None, ToolResult("not run: the turn limit (--max-turns) was reached", "denied"))
        if not offered:
            return _Prepared(call, tool, None, ToolResult("error: no tools are available in this conversation",
                                                          "denied"))
        if tool is None:
            names = ", ".join(t.name for t in self.offered())
            return _Prepared(call, None, None, ToolResult(f"error: unknown tool {call.name!r}; available: {names}",
                                                          "error"))
        try:
            return _Prepared(call, tool, parse_arguments(call.arguments), None)
        except ToolFailure as exc:
            return _Prepared(call, tool, None, ToolResult(f"error: {exc}", "error"))

    # -- one call -------------------------------------------------------------------------

    def _plan_target(self, tool: Tool, args: dict[str, Any]) -> Workspace | None:
        """In plan mode, a built-in edit of the active plan file: the workspace it is written through."""
        if self.plan is None or self.policy.mode != "plan" or not self.registry.is_builtin(tool.name):
            return None
        if self.registry.canonical(tool.name) not in ("write_file", "edit_file"):
            return None
        return self.plan.workspace_for(args.get("path"), self.workspace)

    def decide(self, call: ToolCall, tool: Tool, args: dict[str, Any], hook: str | None = None) -> ToolResult | None:
        """None when the call may run; otherwise the result that refuses it. ``hook``: a
        ``before_tool`` hook's "ask" (ask the user even where the rules allow) or "allow" (do not
        ask where the rules would); a deny stands either way."""
        from lime.runtime.plan import EXIT_PLAN_MODE

        if tool.name == EXIT_PLAN_MODE and self.registry.is_builtin(tool.name):
            # Leaving plan mode only asks the user: nothing for the rules to decide.
            self.events.emit(ev.PermissionDecided(call, "allow", "plan mode control", "policy"))
            return None
        verdict = self.policy.check(tool, args, self.workspace)
        if hook == "ask" and verdict.decision == "allow":
            from lime.runtime.permissions import Verdict

            verdict = Verdict("ask", "a PreToolUse hook asks")
        elif hook == "allow" and verdict.decision == "ask":
            self.events.emit(ev.PermissionDecided(call, "allow", "a PreToolUse hook allows it", "hook"))
            return None
        if verdict.decision == "ask":
            answer = self.approver.ask(tool, args, verdict.reason)
            if answer == "always":
                self.policy.remember(tool, args)
            if answer in ("yes", "always"):
                self.events.emit(ev.PermissionDecided(call, "allow", verdict.reason, "user"))
                return None
            reason = self.policy.denial_reason(tool, verdict, could_ask=answer is not None)
            self.events.emit(ev.PermissionDecided(call, "deny", reason, "user" if answer is not None else "policy"))
            self.notice(f"refused {tool.name}: {reason}")
            return ToolResult(f"permission denied: {reason}", "denied")
        if verdict.decision == "deny":
            self.events.emit(ev.PermissionDecided(call, "deny", verdict.reason, "policy"))
            self.notice(f"refused {tool.name}: {verdict.reason}")
            return ToolResult(f"permission denied: {verdict.reason}", "denied")
        self.events.emit(ev.PermissionDecided(call, "allow", verdict.reason, "policy"))
        return None

    def _before(self, call: ToolCall, tool: Tool, args: dict[str, Any]) -> ToolResult | PreToolAnswer:
        """The ``before_tool`` hooks' combined answer (a refusal ends it)."""
        decision: str | None = None
        for hook in self.before_tool:
            answer = hook(call, tool, args)
            if isinstance(answer, ToolResult):
                return answer
            if answer is None:
                continue
            if answer.decision == "deny":
                reason = answer.reason or "a PreToolUse hook refused it"
                self.events.emit(ev.PermissionDecided(call, "deny", reason, "hook"))
                self.notice(f"refused {tool.name}: {reason}")
                return ToolResult(f"permission denied: {reason}", "denied")
            if answer.args is not None:
                args = answer.args
                self.notice(f"a PreToolUse hook changed the {tool.name} call's input")
            if answer.decision == "ask" or decision is None:
                decision = answer.decision or decision
        return PreToolAnswer(decision, "", args)

    def run_one(self, call: ToolCall, tool: Tool, args: dict[str, Any]) -> ToolResult:
        """One call decided and run as the model's would be, outside a batch (a skill's ``!`cmd```)."""
        return self._run_one(call, tool, args)

    def _run_one(self, call: ToolCall, tool: Tool, args: dict[str, Any]) -> ToolResult:
        hook: str | None = None
        if self.before_tool:
            answer = self._before(call, tool, args)
            if isinstance(answer, ToolResult):
                return answer
            hook, args = answer.decision, answer.args or args
        target = self._plan_target(tool, args)
        if target is not None:
            self.events.emit(ev.PermissionDecided(call, "allow", "the plan file", "policy"))
            assert self.plan is not None
            return self._invoke(call, tool, {**args, "path": self.plan.path.name}, target)
        refused = self.decide(call, tool, args, hook)
        if refused is not None:
            return refused
        return self._invoke(call, tool, args)

    def _invoke(self, call: ToolCall, tool: Tool, args: dict[str, Any], workspace: Workspace | None = None) -> ToolResult:
        for watch in self.before_run:
            watch(call, tool, args)
        result = invoke(tool, args, self.context(call.id, workspace))
        for after in self.after_tool:
            result = after(call, tool, args, result) or result
        return result


class Interrupted(KeyboardInterrupt):
    """Ctrl-C during tool calls; ``outcomes`` answers every call (the unfinished ones "cancelled")."""

    def __init__(self, outcomes: list[Outcome]) -> None:
        super().__init__()
        self.outcomes = outcomes
