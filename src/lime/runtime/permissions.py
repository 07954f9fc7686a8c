"""Which tool calls run without asking, which need the user's approval, and which are refused.

Modes:
  default            reads run; edits and shell commands ask
  plan               read-only: edits and shell commands are refused
  acceptEdits        reads and edits run; shell commands ask
  bypassPermissions  everything runs
  dontAsk            reads and ``--allowedTools`` run; anything that would ask is refused

``--allowedTools`` entries are tool names (``edit_file``, or the familiar ``Edit``/``Bash``...),
optionally with a pattern on the path or command: ``bash(git diff:*)``, ``write_file(docs/*)``.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from lime.errors import UsageError
from lime.runtime.tools import TOOLS, Tool

MODES = ("default", "plan", "acceptEdits", "bypassPermissions", "dontAsk")
Decision = Literal["allow", "ask", "deny"]

ALIASES: dict[str, tuple[str, ...]] = {
    "read": ("read_file",), "read_file": ("read_file",),
    "write": ("write_file",), "write_file": ("write_file",),
    "edit": ("edit_file", "write_file"), "edit_file": ("edit_file",), "multiedit": ("edit_file",),
    "ls": ("glob_search",), "glob": ("glob_search",), "list_files": ("glob_search",), "list": ("glob_search",),
    "glob_search": ("glob_search",),
    "grep": ("grep_search",), "search": ("grep_search",), "grep_search": ("grep_search",),
    "bash": ("bash",), "shell": ("bash",),
}


@dataclass(frozen=True)
class Rule:
    tool: str
    pattern: str | None = None

    def matches(self, tool: Tool, subject: str) -> bool:
        if tool.name != self.tool:
            return False
        if self.pattern is None:
            return True
        pattern = self.pattern.replace(":*", "*")
        return fnmatch.fnmatchcase(subject, pattern) or subject == self.pattern


def _split(values: Iterable[str]) -> list[str]:
    out: list[str] = []
    for value in values:
        depth, cur = 0, ""
        for ch in value:
            if ch == "(":
                depth += 1
            elif ch == ")":
                depth = max(0, depth - 1)
            if depth == 0 and (ch == "," or ch.isspace()):
                if cur.strip():
                    out.append(cur.strip())
                cur = ""
                continue
            cur += ch
        if cur.strip():
            out.append(cur.strip())
    return out


def parse_allowed(values: Iterable[str]) -> list[Rule]:
    rules: list[Rule] = []
    for item in _split(values):
        name, pattern = item, None
        if "(" in item and item.endswith(")"):
            name, pattern = item[: item.index("(")], item[item.index("(") + 1: -1].strip() or None
        targets = ALIASES.get(name.strip().lower())
        if targets is None:
            known = ", ".join(sorted(TOOLS))
            raise UsageError(f"--allowedTools: unknown tool {name!r} (tools: {known}; or Read, Edit, Write, Bash, Glob, Grep)")
        rules.extend(Rule(t, pattern) for t in targets)
    return rules


@dataclass
class Policy:
    mode: str = "default"
    allowed: list[Rule] = field(default_factory=list)
    # Approvals the user gave with "always" during this run.
    session_allowed: set[str] = field(default_factory=set)

    @classmethod
    def from_args(cls, mode: str | None, skip: bool, allowed: Iterable[str]) -> Policy:
        if skip:
            if mode not in (None, "bypassPermissions"):
                raise UsageError("--dangerously-skip-permissions conflicts with --permission-mode " + str(mode))
            mode = "bypassPermissions"
        mode = mode or "default"
        if mode not in MODES:
            raise UsageError(f"unknown permission mode {mode!r} (choose from {', '.join(MODES)})")
        return cls(mode, parse_allowed(allowed))

    def offered(self) -> list[Tool]:
        """Plan mode offers only the read-only tools; the others would be refused anyway."""
        if self.mode == "plan":
            return [t for t in TOOLS.values() if t.kind == "read"]
        return list(TOOLS.values())

    def decide(self, tool: Tool, subject: str) -> Decision:
        if tool.kind == "read" or self.mode == "bypassPermissions":
            return "allow"
        if self.mode == "plan":
            return "deny"
        if tool.name in self.session_allowed or any(r.matches(tool, subject) for r in self.allowed):
            return "allow"
        if self.mode == "acceptEdits" and tool.kind == "edit":
            return "allow"
        if self.mode == "dontAsk":
            return "deny"
        return "ask"

    def denial_reason(self, tool: Tool, *, could_ask: bool) -> str:
        if self.mode == "plan":
            return f"{tool.name} is not allowed in plan mode (read-only); describe the change instead of making it"
        if self.mode == "dontAsk":
            return (f"{tool.name} was refused: permission mode dontAsk runs only read-only and pre-approved tools "
                    f"(--allowedTools {tool.name})")
        if not could_ask:
            return (f"{tool.name} needs approval and there is no terminal to ask on; re-run with "
                    f"--allowedTools {tool.name}, --permission-mode acceptEdits (edits) or "
                    "--dangerously-skip-permissions")
        return f"the user declined to run {tool.name}"
