"""Hooks: the user's shell commands run at a conversation's lifecycle events.

Configured under ``hooks`` in any settings file, either as plain command lists per event
(``{"PreToolUse": ["./scripts/check.sh"]}``) or in the matcher form
(``[{"matcher": "bash|edit_file", "hooks": [{"type": "command", "command": "...", "timeout": 30}]}]``).
Each hook runs with ``sh -c`` from the project root, with ``HOOK_*`` variables and a JSON
document on stdin, a deadline (60 s unless its ``timeout`` says otherwise) and a cap on what
it prints. A hook that fails or hangs is one notice; the conversation goes on.

Nothing here touches the agent loop: ``Hooks.attach`` subscribes to the event stream and plugs
into the executor's ``before_tool`` / ``after_tool`` seams, its approver and the agent's
``before_prompt`` seam, and only for the events that have hooks. With no hooks configured,
nothing is attached at all.

PreToolUse hooks answer by exit code (0: go on; 2: deny, stderr is the reason) or by a JSON
object on stdout: ``{"decision": "allow"|"deny"|"ask", "reason": "...", "input": {...}}``. A
rewritten input goes through the permission rules like the model's own: a hook cannot loosen a
deny rule.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lime.errors import LimeError
from lime.runtime.hookconfig import HookSpec

if TYPE_CHECKING:
    from lime.providers.openai_compat.types import ToolCall
    from lime.runtime import events as ev
    from lime.runtime.agent import Agent
    from lime.runtime.executor import Approval, Approver, PlanReview, PreToolAnswer
    from lime.runtime.registry import Tool, ToolResult

KEEP = 16_000  # bytes of a hook's output kept (head and tail)
LIMIT = 4_000_000  # a hook printing more is killed


class Result:
    """How one hook ran: exit code (None: killed at its deadline), its output, its JSON answer."""

    __slots__ = ("answer", "code", "spec", "stderr", "stdout")

    def __init__(self, spec: HookSpec, code: int | None, stdout: str, stderr: str) -> None:
        self.spec, self.code, self.stdout, self.stderr = spec, code, stdout, stderr
        self.answer: dict[str, Any] = {}
        text = stdout.strip()
        if code == 0 and text.startswith("{"):
            try:
                data = json.loads(text)
            except ValueError:
                data = None
            if isinstance(data, dict):
                self.answer = data

    @property
    def blocked(self) -> bool:
        return self.code == 2 or self.answer.get("decision") in ("deny", "block")

    @property
    def reason(self) -> str:
        reason = self.answer.get("reason")
        if isinstance(reason, str) and reason.strip():
            return reason.strip()
        return (self.stderr.strip() if self.code == 2 else "") or f"blocked by a {self.spec.event} hook"

    @property
    def context(self) -> str:
        """What the hook adds for the model to read: its JSON ``context`` or its plain output."""
        extra = self.answer.get("context", self.answer.get("additionalContext"))
        if isinstance(extra, str):
            return extra.strip()
        return "" if self.answer else self.stdout.strip()


class PromptBlocked(LimeError):
    """A UserPromptSubmit hook refused the prompt."""


class Hooks:
    """The hooks of one conversation and the counters its JSON documents carry."""

    def __init__(self, specs: list[HookSpec], root: Path) -> None:
        self.specs = list(specs)
        self.root = root
        self.agent: Agent | None = None
        self.turn = 0
        self.request = 0
        self._busy = False  # notices about hooks do not run Notification hooks

    def has(self, event: str) -> bool:
        return any(s.event == event for s in self.specs)

    # -- running ------------------------------------------------------------------------------

    def run(self, event: str, fields: dict[str, Any] | None = None, *, tool: str | None = None,
            tool_input: Any = None, tool_output: str | None = None, is_error: bool | None = None) -> list[Result]:
        """Run ``event``'s hooks (those whose matcher takes ``tool``) one after another."""
        specs = [s for s in self.specs if s.event == event and s.matches(tool)]
        if not specs:
            return []
        from lime.runtime import subproc
        from lime.runtime.shellrun import child_env

        agent = self.agent
        secrets = list(agent.workspace.secrets) if agent is not None else []
        env = child_env(secrets)
        if agent is not None:
            env.update((k, v) for k, v in agent.workspace.env.items() if not any(s and s in v for s in secrets))
        env["HOOK_EVENT"] = event
        doc: dict[str, Any] = {"event": event, "hook_event_name": event,
                               "session_id": agent.session.id if agent is not None else "",
                               "turn_id": self.turn, "request_id": self.request, "cwd": str(self.root)}
        if tool is not None:
            text = json.dumps(tool_input, ensure_ascii=False)
            env.update(HOOK_TOOL_NAME=tool, HOOK_TOOL_INPUT=text)
            doc.update(tool_name=tool, tool_input=tool_input)
        if tool_output is not None:
            env.update(HOOK_TOOL_OUTPUT=json.dumps(tool_output, ensure_ascii=False)[:100_000],
                       HOOK_TOOL_IS_ERROR="1" if is_error else "0")
            doc.update(tool_output=tool_output, tool_is_error=bool(is_error))
        doc.update(fields or {})
        payload = json.dumps(doc, ensure_ascii=False).encode()
        results = []
        for spec in specs:
            out = subproc.run(["/bin/sh", "-c", spec.command], cwd=str(self.root), env=env, timeout=spec.timeout,
                              keep=KEEP, limit=LIMIT, merge_stderr=False, stdin=payload)
            result = Result(spec, None if out.timed_out or out.flooded else out.returncode, out.text(),
                            out.stderr.decode("utf-8", errors="replace"))
            results.append(result)
            if out.timed_out:
                self._say(f"{event} hook `{spec.command[:60]}` did not finish in {spec.timeout:g} s; killed it")
            elif out.flooded:
                self._say(f"{event} hook `{spec.command[:60]}` printed more than {LIMIT:,} bytes; killed it")
            elif result.code not in (0, 2):
                why = result.stderr.strip().splitlines()[-1:] or ["no output"]
                self._say(f"{event} hook `{spec.command[:60]}` failed (exit {result.code}): {why[0][:200]}")
        return results

    def _say(self, text: str) -> None:
        from lime.runtime import events as ev

        if self.agent is None:
            return
        self._busy = True
        try:
            self.agent.events.emit(ev.Notice(text))
        finally:
            self._busy = False

    # -- wiring -------------------------------------------------------------------------------

    def attach(self, agent: Agent) -> None:
        """Plug into ``agent`` where hooks are configured (see the module's docstring)."""
        self.agent = agent
        agent.events.subscribe(self.handle)
        executor = agent.executor
        if self.has("PreToolUse"):
            executor.before_tool.append(self.pre_tool)
            executor.serial = True
        if self.has("PostToolUse") or self.has("PostToolUseFailure"):
            executor.after_tool.append(self.post_tool)
        if self.has("PermissionRequest"):
            executor.approver = AskingHooks(executor.approver, self)
        if self.has("UserPromptSubmit"):
            agent.before_prompt.append(self.prompt)

    def handle(self, event: ev.Event) -> None:
        from lime.runtime import events as ev

        if isinstance(event, ev.RequestSent):
            self.request += 1
        elif isinstance(event, ev.PromptSubmitted):
            self.turn += 1
        elif isinstance(event, ev.SessionStarted):
            self.run("SessionStart", {"model": event.model, "resumed": event.resumed})
        elif isinstance(event, ev.SessionEnded):
            self.run("SessionEnd")
        elif isinstance(event, ev.CompactionStarted):
            self.run("PreCompact", {"reason": event.reason})
        elif isinstance(event, ev.CompactionEnded):
            self.run("PostCompact", {"reason": event.reason, "compacted": event.compacted})
        elif isinstance(event, ev.TurnCancelled):
            self.run("Stop", {"partial": event.partial})
        elif isinstance(event, ev.Notice):
            if not self._busy:
                self.run("Notification", {"message": event.text})
        elif isinstance(event, ev.PermissionDecided) and event.decision == "deny":
            self.run("PermissionDenied", {"reason": event.reason, "by": event.by}, tool=event.call.name,
                     tool_input=_arguments(event.call))

    def prompt(self, text: str) -> str:
        """UserPromptSubmit: a hook may block the prompt or add context to it."""
        added = []
        for result in self.run("UserPromptSubmit", {"prompt": text}):
            if result.blocked:
                raise PromptBlocked(f"prompt blocked by a UserPromptSubmit hook: {result.reason[:300]}")
            if result.code == 0 and result.context:
                added.append(result.context)
        return "\n\n".join([text, *added])

    def pre_tool(self, call: ToolCall, tool: Tool, args: dict[str, Any]) -> PreToolAnswer | None:
        from lime.runtime.executor import PreToolAnswer

        decision: str | None = None
        reason = ""
        new_args: dict[str, Any] | None = None
        for result in self.run("PreToolUse", {"tool_call_id": call.id}, tool=tool.name, tool_input=args):
            if result.blocked:
                return PreToolAnswer("deny", result.reason, None)
            if result.code != 0:
                continue
            rewritten = result.answer.get("input", result.answer.get("updatedInput"))
            if isinstance(rewritten, dict):
                new_args = rewritten
            choice = result.answer.get("decision")
            if choice == "ask" or (choice == "allow" and decision is None):
                decision = choice
                reason = str(result.answer.get("reason") or "")
        if decision is None and new_args is None:
            return None
        return PreToolAnswer(decision, reason, new_args)

    def post_tool(self, call: ToolCall, tool: Tool, args: dict[str, Any], result: ToolResult) -> ToolResult | None:
        event = "PostToolUseFailure" if result.is_error else "PostToolUse"
        added = []
        for hook in self.run(event, {"tool_call_id": call.id}, tool=tool.name, tool_input=args,
                             tool_output=result.content, is_error=result.is_error):
            text = hook.stderr.strip() if hook.code == 2 else hook.context if hook.code == 0 else ""
            if text:
                added.append(f"[{event} hook `{hook.spec.command[:60]}`]\n{text[:KEEP]}")
        if not added:
            return None
        from dataclasses import replace

        return replace(result, content="\n\n".join([result.content, *added]))


def _arguments(call: ToolCall) -> Any:
    try:
        return json.loads(call.arguments)
    except (ValueError, TypeError):
        return call.arguments


class AskingHooks:
    """The approver with PermissionRequest hooks in front: a hook may answer (``allow``/``deny``)
    before the user is asked; otherwise the user is."""

    def __init__(self, inner: Approver, hooks: Hooks) -> None:
        self.inner, self.hooks = inner, hooks

    def ask(self, tool: Tool, args: dict[str, Any], why: str = "") -> Approval | None:
        for result in self.hooks.run("PermissionRequest", {"reason": why}, tool=tool.name, tool_input=args):
            if result.blocked:
                return "no"
            if result.answer.get("decision") == "allow":
                return "yes"
        return self.inner.ask(tool, args, why)

    def review_plan(self, plan: str, path: str) -> PlanReview | None:
        return self.inner.review_plan(plan, path)
