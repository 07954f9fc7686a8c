"""Which tool calls run without asking, which need the user's approval, and which are refused.

Lime's permission model ("Permission model" in Lime's documentation):

Modes
  default            reads run; file changes and shell commands ask
  plan               read-only: file changes and shell commands are refused
  acceptEdits        reads and edits inside the workspace run; shell commands ask
  dontAsk            everything runs without asking; deny rules (and ask rules) still apply
  bypassPermissions  everything runs; only deny rules still apply

Rules (``permissions.allow`` / ``ask`` / ``deny`` in the settings files, see ``settings.py``)
  ``bash``, ``read_file``...     a bare tool name: every call of that tool
  ``Bash(git status:*)``         bash commands starting with ``git status`` (``Bash(npm test)``: exactly)
  ``Edit(.git/**)``              edits (``edit_file`` and ``write_file``) of paths matching the glob;
  ``Write(GLOB)``, ``Read(GLOB)``  ``write_file`` only; ``read_file``, ``glob_search``, ``grep_search``

deny > ask > allow. A bash command is split into segments (``bashcheck``): an allow rule approves
it only when every segment matches an allow rule and nothing in it is beyond the rules (command
substitution, ``eval``, ``sh -c``, a redirection out of the workspace...). Deny rules look at every
command anywhere in the line, also as it really runs (``/bin/r''m`` under ``sudo`` is ``rm``); when
one exists, a command whose program cannot be known before it runs (``$x``, ``eval``) asks.

Protected paths (``.git/``, ``.lime/``, ``.lime.json``, ``.vscode/``, ``.github/workflows/``,
shell start-up files, ``AGENTS*.md``) hold things other programs run or trust: writing them
always asks, in ``dontAsk`` is refused, unless an allow rule from user or local settings or the
command line names the path; only ``bypassPermissions`` skips this.

``--allowedTools`` restricts the tools offered to the model; the old tool names (``shell``,
``list_files``, ``grep``) and the familiar ``Read``/``Edit``/``Bash``... keep working everywhere.
"""

from __future__ import annotations

import fnmatch
import functools
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from lime.errors import ConfigError, UsageError
from lime.runtime.modes import MODES
from lime.runtime.protected import PROTECTED_DIRS, PROTECTED_FILES, is_protected  # noqa: F401 (re-exported)
from lime.runtime.registry import EXTERNAL_PREFIX, RESERVED_NAMES
from lime.runtime.settings import TRUSTED_SCOPES, Settings
from lime.runtime.tools import canonical

if TYPE_CHECKING:
    from lime.runtime.bashcheck import Analysis
    from lime.runtime.tools import Tool, Workspace

__all__ = ["MODES", "Policy", "Rule", "Verdict", "canonical", "is_protected", "parse_rule", "path_matches"]

Decision = Literal["allow", "ask", "deny"]

TOOL_NAMES = ("read_file", "write_file", "edit_file", "glob_search", "grep_search", "bash")
KIND = {"read_file": "read", "glob_search": "read", "grep_search": "read",
        "write_file": "edit", "edit_file": "edit", "bash": "execute"}
# Bare names (any case) and the tools they stand for.
ALIASES: dict[str, tuple[str, ...]] = {
    "read": ("read_file",), "read_file": ("read_file",),
    "write": ("write_file",), "write_file": ("write_file",),
    "edit": ("edit_file", "write_file"), "edit_file": ("edit_file",), "multiedit": ("edit_file",),
    "glob": ("glob_search",), "glob_search": ("glob_search",), "ls": ("glob_search",), "list": ("glob_search",),
    "list_files": ("glob_search",),
    "grep": ("grep_search",), "grep_search": ("grep_search",), "search": ("grep_search",),
    "bash": ("bash",), "shell": ("bash",),
}
# ``Name(PATTERN)``: scoped forms cover every tool that touches paths that way.
SCOPED: dict[str, tuple[str, ...]] = {
    "read": ("read_file", "glob_search", "grep_search"),
    "edit": ("edit_file", "write_file"),
}


@dataclass(frozen=True)
class Rule:
    """One allow, ask or deny rule: the tools it covers, what it matches, and where it was written."""

    tools: tuple[str, ...]
    pattern: str | None  # None: every call of the tools
    text: str
    scope: str = "flag"
    origin: str = "the command line"

    @property
    def on_paths(self) -> bool:
        return self.pattern is not None and "bash" not in self.tools

    def covers(self, name: str) -> bool:
        return name in self.tools or any(_server_rule(t) and name.startswith(t + "__") for t in self.tools)


def _server_rule(name: str) -> bool:
    """``mcp__github``: a rule naming a whole MCP server (its tools are ``mcp__github__TOOL``)."""
    return name.startswith(EXTERNAL_PREFIX) and "__" not in name[len(EXTERNAL_PREFIX):]


def parse_rule(text: str, scope: str = "flag", origin: str = "the command line") -> Rule:
    text = text.strip()
    m = re.fullmatch(r"([A-Za-z0-9_-]+)\s*(?:\((.*)\))?", text, re.S)
    if m is None:
        raise ConfigError(f"{origin}: cannot read the permission rule {text!r} (use a tool name, "
                          "Bash(PREFIX:*), Edit(GLOB), Read(GLOB) or Write(GLOB))")
    name, pattern = m.group(1).lower(), m.group(2)
    tools = (SCOPED.get(name) if pattern is not None else None) or ALIASES.get(name)
    if tools is None and pattern is None and (name in RESERVED_NAMES or m.group(1).startswith(EXTERNAL_PREFIX)):
        # lime's other tools (exit_plan_mode, agent...) and MCP tools (mcp__SERVER__TOOL): by name.
        return Rule((name if name in RESERVED_NAMES else m.group(1),), None, text, scope, origin)
    if tools is None:
        raise ConfigError(f"{origin}: unknown tool {m.group(1)!r} in permission rule {text!r} (tools: "
                          f"{', '.join(TOOL_NAMES)}; or Read, Edit, Write, Bash, Glob, Grep)")
    return Rule(tools, pattern.strip() if pattern is not None else None, text, scope, origin)


def _split(values: Iterable[str]) -> list[str]:
    """``--allowedTools a,b c``: split on commas and spaces outside parentheses."""
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


# -- matching -------------------------------------------------------------------------------


@functools.lru_cache(maxsize=256)
def _glob_regex(pattern: str) -> re.Pattern[str]:
    """Gitignore-style: ``**`` spans directories, ``*`` and ``?`` stay within one name."""
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out, re.S)


def path_matches(pattern: str, path: str) -> bool:
    """``path`` (workspace-relative, or absolute when outside the working directory) against a glob.

    A match on a directory covers everything under it; a pattern without ``/`` matches a name at
    any depth.
    """
    pattern = pattern.strip()
    if not pattern:
        return False
    if pattern.startswith("./"):
        pattern = pattern[2:]
    if pattern.startswith("~"):
        pattern = os.path.expanduser(pattern)
    anchored = "/" in pattern.rstrip("/")
    while pattern.endswith("/**"):  # "dir/**" is the directory and all below it
        pattern = pattern[:-3]
    pattern = pattern.rstrip("/") or "/"
    rx = _glob_regex(pattern)
    parts = path.split("/")
    if not anchored:
        return any(rx.fullmatch(name) for name in parts if name)
    if path.startswith("/") != pattern.startswith("/"):
        return False  # a workspace-relative pattern never names a path outside the working directory
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    return any(rx.fullmatch(p) for p in prefixes if p)


def command_matches(pattern: str, segment: str) -> bool:
    """One segment of a bash command against ``Bash(...)``'s pattern."""
    if not pattern:
        return False
    if pattern.endswith(":*"):
        prefix = pattern[:-2].rstrip()
        return segment == prefix or (segment.startswith(prefix) and segment[len(prefix):][:1].isspace())
    if "*" in pattern or "?" in pattern:
        return fnmatch.fnmatchcase(segment, pattern)
    return segment == pattern


def _undecided(pattern: str, segment: str) -> bool:
    """A normalised segment whose computed word (NUL) stands where ``pattern``'s words are."""
    if "\0" not in segment:
        return False
    core = pattern[:-2].rstrip() if pattern.endswith(":*") else pattern
    if not core or "*" in core or "?" in core:
        return False
    have = segment.split(" ")
    for i, word in enumerate(core.split()):
        if i >= len(have):
            return False
        if have[i] == "\0":
            return True
        if have[i] != word:
            return False
    return False


def _mentions(pattern: str, command: str) -> bool:
    """For deny and ask rules: the rule's command appears anywhere as words (inside ``sh -c '...'`` too)."""
    core = pattern[:-2].rstrip() if pattern.endswith(":*") else pattern
    if not core or "*" in core or "?" in core:
        return False
    return re.search(r"(?:^|[\s;&|(){}`'\"$])" + re.escape(core) + r"(?=$|[\s;&|(){}`'\"])", command) is not None




# -- the policy -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    """The policy's answer to one tool call, and why (shown when a call asks or is refused)."""

    decision: Decision
    reason: str = ""


@dataclass
class Policy:
    """This run's permission policy: the mode, the rules, and what the user approved for the session."""

    mode: str = "default"
    allow: list[Rule] = field(default_factory=list)
    ask: list[Rule] = field(default_factory=list)
    deny: list[Rule] = field(default_factory=list)
    # --allowedTools: the tools offered to the model (None: all of them).
    enabled: set[str] | None = None
    mode_origin: str | None = None
    # The settings' "sandbox" switch (None: not set, i.e. on).
    sandbox_setting: bool | None = None
    # Approvals the user gave with "always" during this run ("edit", or "bash:<command>").
    session_allowed: set[str] = field(default_factory=set)

    @classmethod
    def from_args(cls, mode: str | None, skip: bool, allowed: Iterable[str],
                  settings: Settings | None = None) -> Policy:
        """The policy for this run: flags first, then ``defaultMode`` from trusted settings."""
        if skip:
            if mode not in (None, "bypassPermissions"):
                raise UsageError("--dangerously-skip-permissions conflicts with --permission-mode " + str(mode))
            mode = "bypassPermissions"
        origin = "--permission-mode" if mode else None
        if mode is None and settings is not None and settings.default_mode:
            mode, origin = settings.default_mode, settings.mode_origin
        mode = mode or "default"
        if mode not in MODES:
            raise UsageError(f"unknown permission mode {mode!r} (choose from {', '.join(MODES)})")
        policy = cls(mode, mode_origin=origin, sandbox_setting=settings.sandbox if settings is not None else None)
        if settings is not None:
            for kind in ("allow", "ask", "deny"):
                getattr(policy, kind).extend(parse_rule(r.text, r.scope, r.origin) for r in settings.rules[kind])
        entries = _split(allowed)
        if entries:
            policy.enabled = set()
            for item in entries:
                try:
                    rule = parse_rule(item, "flag", "--allowedTools")
                except ConfigError as exc:
                    raise UsageError(str(exc)) from None
                policy.enabled.update(rule.tools)
                if rule.pattern is not None:  # Bash(git diff:*): offered, and those calls run unasked
                    policy.allow.append(rule)
        return policy

    @property
    def sandboxed(self) -> bool:
        """Shell commands run sandboxed unless in bypassPermissions or turned off by ``"sandbox": false``."""
        return self.mode != "bypassPermissions" and self.sandbox_setting is not False

    def set_mode(self, mode: str) -> None:
        if mode not in MODES:
            raise UsageError(f"unknown permission mode {mode!r} (choose from {', '.join(MODES)})")
        self.mode, self.mode_origin = mode, "/permissions"

    def offered(self, tools: Iterable[Tool] | None = None) -> list[Tool]:
        """The tools the model is told about: --allowedTools' set; in plan mode only the read-only ones."""
        if tools is None:
            from lime.runtime.tools import TOOLS

            tools = TOOLS.values()
        out: list[Tool] = []
        seen: set[str] = set()
        for t in tools:
            name = canonical(t.name)
            if name in seen or not self.is_enabled(name):
                continue
            if self.mode == "plan" and t.kind != "read":
                continue
            seen.add(name)
            out.append(t)
        return out

    def is_enabled(self, name: str) -> bool:
        """Offered under --allowedTools (``mcp__github`` there enables that server's every tool)."""
        if self.enabled is None or name in self.enabled:
            return True
        return any(_server_rule(t) and name.startswith(t + "__") for t in self.enabled)

    # -- deciding ------------------------------------------------------------------------

    def check(self, tool: Tool, args: dict[str, Any], ws: Workspace) -> Verdict:
        name = canonical(tool.name)
        kind = tool.kind
        if not self.is_enabled(name):
            return Verdict("deny", f"{name} is not enabled in this session (--allowedTools)")
        call = _Call.of(name, args, ws)
        for rule in self.deny:
            if call.hit(rule, deny=True):
                return Verdict("deny", f"{name} is denied by the rule {rule.text!r} ({rule.origin})")
        if self.mode == "plan" and kind != "read":
            return Verdict("deny", f"{name} is not allowed in plan mode (read-only); describe the change "
                                   "instead of making it")
        unseen = call.unseen(self.deny + self.ask)
        if unseen:
            # A deny (or ask) rule cannot be checked against a command whose program is computed.
            return Verdict("deny" if self.mode == "bypassPermissions" else "ask", unseen)
        if self.mode == "bypassPermissions":
            return Verdict("allow")
        for rule in self.ask:
            if call.hit(rule, deny=True):
                return Verdict("ask", f"the rule {rule.text!r} ({rule.origin}) asks for {name}")
        protected = call.protected()
        if protected:
            explicit = kind == "edit" and any(
                r.on_paths and r.scope in TRUSTED_SCOPES and call.hit(r, deny=False) for r in self.allow)
            if not explicit:
                if self.mode == "dontAsk":
                    return Verdict("deny", f"{protected} is a protected path (it holds what git, editors, CI "
                                           "or shells run); in dontAsk mode it needs an allow rule naming it "
                                           f"in your user or local settings, e.g. Edit({protected.split(' (')[0]})")
                return Verdict("ask", f"{protected} is a protected path")
            return Verdict("allow")
        # An MCP tool's read-only annotation is the server's claim: it may be offered in plan mode,
        # but it still asks like any other tool unless a rule allows it.
        if self.mode == "dontAsk" or (kind == "read" and not name.startswith(EXTERNAL_PREFIX)):
            return Verdict("allow")
        if self._session_allows(name, args) or call.allowed_by(self.allow):
            return Verdict("allow")
        if self.mode == "acceptEdits" and kind == "edit":
            return Verdict("allow")
        why = "; ".join(call.analysis.problems[:2]) if call.analysis and call.analysis.problems else ""
        return Verdict("ask", why)

    def decide(self, tool: Tool, args: dict[str, Any], ws: Workspace) -> Decision:
        return self.check(tool, args, ws).decision

    def read_denied(self, ws: Workspace) -> Callable[[Path], bool] | None:
        """For the reading tools' walks and search hits: is this resolved path denied by a
        ``Read(GLOB)`` rule? (None when no rule could deny one.)"""
        rules = [r for r in self.deny if r.on_paths and "grep_search" in r.tools and r.pattern]
        if not rules:
            return None
        cwd = str(ws.cwd)

        def denied(real: Path) -> bool:
            rel = _relative(str(real), cwd)
            return any(path_matches(r.pattern or "", rel) for r in rules)

        return denied

    def _session_allows(self, name: str, args: dict[str, Any]) -> bool:
        if KIND.get(name) == "edit":
            return "edit" in self.session_allowed
        if name == "bash":
            return f"bash:{args.get('command')}" in self.session_allowed
        return name in self.session_allowed

    def remember(self, tool: Tool, args: dict[str, Any]) -> None:
        """The user answered "always": file edits for the rest of the run, or this exact command."""
        name = canonical(tool.name)
        if KIND.get(name) == "edit":
            self.session_allowed.add("edit")
        elif name == "bash":
            self.session_allowed.add(f"bash:{args.get('command')}")
        else:
            self.session_allowed.add(name)

    def denial_reason(self, tool: Tool, verdict: Verdict | None = None, *, could_ask: bool) -> str:
        name = canonical(tool.name)
        if verdict is not None and verdict.decision == "deny":
            return verdict.reason
        if not could_ask:
            detail = f" ({verdict.reason})" if verdict is not None and verdict.reason else ""
            return (f"{name} needs approval{detail} and there is no terminal to ask on; allow it with a "
                    f"permission rule (--settings '{{\"permissions\": {{\"allow\": [\"{_example(name)}\"]}}}}'), "
                    "--permission-mode acceptEdits (edits) or dontAsk")
        return f"the user declined to run {name}"


def _example(name: str) -> str:
    return {"bash": "Bash(COMMAND:*)", "edit_file": "Edit(PATH)", "write_file": "Write(PATH)"}.get(name, name)


@dataclass
class _Call:
    """One tool call, as the rules see it: its paths or its command's segments."""

    name: str
    paths: list[str]  # the path as written and as resolved (workspace-relative where inside)
    shown: str  # the path as the user wrote it, for messages
    command: str
    analysis: Analysis | None
    roots: list[str]

    @classmethod
    def of(cls, name: str, args: dict[str, Any], ws: Workspace) -> _Call:
        cwd = str(ws.cwd)
        roots = [str(r) for r in ws.roots]
        if name == "bash":
            command = args.get("command")
            command = command if isinstance(command, str) else ""
            from lime.runtime.bashcheck import analyse

            def inside(path: str) -> bool:
                return any(path == r or path.startswith(r.rstrip("/") + "/") for r in roots)

            return cls(name, [], "", command, analyse(command, cwd, inside), roots)
        raw = args.get("path")
        raw = raw if isinstance(raw, str) and raw and "\0" not in raw else "."
        literal = os.path.normpath(os.path.join(cwd, os.path.expanduser(raw)))
        try:
            resolved = os.path.realpath(literal)
        except OSError:  # a component changed while it was resolved; the tool's own checks still run
            resolved = literal
        paths = list(dict.fromkeys(_relative(p, cwd) for p in (literal, resolved)))
        return cls(name, paths, raw, "", None, roots)

    def hit(self, rule: Rule, *, deny: bool) -> bool:
        """Does ``rule`` apply? Deny and ask rules apply when any form matches, allow rules when all do."""
        if not rule.covers(self.name):
            return False
        if rule.pattern is None:
            return True
        if self.name != "bash":
            test = any if deny else all
            return test(path_matches(rule.pattern, p) for p in self.paths)
        assert self.analysis is not None
        if any(command_matches(rule.pattern, s) for s in self.analysis.segments):
            return True
        if deny and any(command_matches(rule.pattern, s) for s in self.analysis.normalised):
            return True
        return deny and _mentions(rule.pattern, self.command)

    def unseen(self, rules: list[Rule]) -> str:
        """Why no ``Bash(...)`` deny or ask rule in ``rules`` can be checked against this command."""
        if self.analysis is None:
            return ""
        mine = [r for r in rules if r.covers("bash") and r.pattern is not None]
        for rule in mine:
            # `git $x` against Bash(git push:*): a computed word where the rule's words are.
            computed = next((s for s in self.analysis.normalised if _undecided(rule.pattern or "", s)), None)
            if computed is not None:
                return (f"{computed.replace(chr(0), '$…')} has a computed word where the rule {rule.text!r} "
                        f"({rule.origin}) looks")
        if not self.analysis.opaque or not mine:
            return ""
        return (f"{self.analysis.opaque[0]}: the rule {mine[0].text!r} ({mine[0].origin}) cannot be checked "
                "against what it runs")

    def allowed_by(self, rules: list[Rule]) -> bool:
        mine = [r for r in rules if r.covers(self.name)]
        if any(r.pattern is None for r in mine):
            return True
        if self.name != "bash":
            return any(self.hit(r, deny=False) for r in mine)
        a = self.analysis
        if a is None or a.problems or not a.segments:
            return False
        return all(any(r.pattern is not None and command_matches(r.pattern, s) for r in mine) for s in a.segments)

    def protected(self) -> str | None:
        """The protected path this call writes, if any."""
        kind = KIND.get(self.name)
        if kind == "edit":
            hit = next((p for p in self.paths if is_protected(p)), None)
            return (self.shown if is_protected(self.shown) else hit) if hit else None
        if self.name == "bash" and self.analysis is not None:
            cwd = self.roots[0] if self.roots else "/"
            hit = next((_relative(p, cwd) for p in self.analysis.writes if is_protected(_relative(p, cwd))), None)
            if hit is None and self.analysis.sensitive:
                hit = f".git/config ({self.analysis.sensitive[0]})"
            return hit
        return None


def _relative(path: str, cwd: str) -> str:
    if path == cwd:
        return "."
    prefix = cwd.rstrip("/") + "/"
    return path[len(prefix):] if path.startswith(prefix) else path
