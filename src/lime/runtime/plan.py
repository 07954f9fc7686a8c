"""Plan mode's ending: the active plan file and the ``exit_plan_mode`` tool.

In ``plan`` mode the model may read but not change anything; the one thing it may write is the
session's plan file (``$LIME_CONFIG_HOME/plans/<session>.md``). When it knows what to do it calls
``exit_plan_mode`` with the plan: the plan is saved there and shown to the user, who approves it
(the conversation goes on in ``default`` or ``acceptEdits`` mode and the model carries it out) or
rejects it with feedback (plan mode stays on and the model revises). With nobody to ask (a
one-shot run without a terminal) the turn ends with the plan as its answer.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from lime.runtime import events as ev
from lime.runtime.registry import Tool, ToolContext, ToolResult
from lime.runtime.workspace import ToolFailure, Workspace

EXIT_PLAN_MODE = "exit_plan_mode"
MAX_PLAN_CHARS = 200_000
# The REPL's Shift+Tab order.
CYCLE = ("default", "acceptEdits", "plan")


class Plan:
    """One session's plan file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def for_session(cls, session_id: str) -> Plan:
        from lime import config

        return cls(config.config_home() / "plans" / f"{session_id}.md")

    def names(self, raw: Any) -> bool:
        """Does a tool's ``path`` argument name this file (as given, ``~`` expanded)?"""
        if not isinstance(raw, str) or not raw or "\0" in raw:
            return False
        return os.path.abspath(os.path.expanduser(raw)) == os.path.abspath(self.path)

    def workspace_for(self, raw: Any, ws: Workspace) -> Workspace | None:
        """The workspace a write of the plan file goes through (its directory only), or None when
        ``raw`` names another path."""
        if not self.names(raw):
            return None
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        return Workspace(self.path.parent.resolve(), secrets=ws.secrets, sandbox=ws.sandbox)

    def write(self, text: str, ws: Workspace) -> None:
        target = self.workspace_for(str(self.path), ws)
        assert target is not None
        target.write_bytes(target.resolve(self.path.name), text.encode("utf-8", errors="surrogatepass"),
                           raw=self.path.name)

    def read(self) -> str | None:
        try:
            return self.path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return None


class ExitPlanMode(Tool):
    """Present the plan; the user's answer decides whether plan mode ends."""

    name = EXIT_PLAN_MODE
    kind = "other"
    parameters = {
        "type": "object",
        "properties": {"plan": {"type": "string", "description": "the whole plan, in Markdown"}},
        "required": ["plan"],
        "additionalProperties": False,
    }

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.description = (
            "You are in plan mode: research with the read-only tools, change nothing. When you know what to "
            "do, call this tool with the whole plan (files to change, steps, how to test) to present it to "
            "the user. If they approve, plan mode ends and you carry the plan out; if they reject it, revise "
            f"it as they say and call this again. (The plan is saved to {plan.path}; that file is the one "
            "file write_file and edit_file may change in plan mode.)")

    def run(self, args: dict[str, Any], context: ToolContext) -> ToolResult:
        agent = context.agent
        if agent is None or agent.policy.mode != "plan":
            raise ToolFailure("not in plan mode; there is no plan to present")
        text = args.get("plan")
        if not isinstance(text, str) or not text.strip():
            text = self.plan.read()
            if not text or not text.strip():
                raise ToolFailure("plan is required: pass the whole plan as `plan`")
        else:
            if len(text) > MAX_PLAN_CHARS:
                raise ToolFailure(f"the plan is longer than {MAX_PLAN_CHARS:,} characters; shorten it")
            self.plan.write(context.workspace.scrub(text), context.workspace)
        text = context.workspace.scrub(text)  # a known key the model repeats is masked, as in its answers
        review = agent.approver.review_plan(text, str(self.plan.path))
        decision = "none" if review is None else "approve" if review.approved else "reject"
        agent.events.emit(ev.PlanPresented(text, str(self.plan.path), decision))
        if review is None:
            return ToolResult("The plan was presented. There is no terminal to approve it on, so this session "
                              "stops here, still in plan mode.", stop=True)
        if review.approved:
            agent.set_mode(review.mode)
            return ToolResult(f"The user approved the plan. Plan mode is over; the permission mode is now "
                              f"{review.mode}. Carry out the plan now.")
        if not review.feedback.strip():
            return ToolResult("The user rejected the plan and will say what to change. Stay in plan mode.",
                              "denied", stop=True)
        return ToolResult("The user rejected the plan. Their feedback:\n" + review.feedback.strip()
                          + "\nStay in plan mode: revise the plan and call exit_plan_mode again.", "denied")


def next_mode(mode: str) -> str:
    """Shift+Tab: default → acceptEdits → plan → default (any other mode goes to default)."""
    return CYCLE[(CYCLE.index(mode) + 1) % len(CYCLE)] if mode in CYCLE else "default"
