"""The ``hooks`` settings key: which commands run at which events (``hooks.py`` runs them).
Stdlib only: settings files are read on the start-up path."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lime.errors import ConfigError

EVENTS = ("SessionStart", "SessionEnd", "UserPromptSubmit", "PreToolUse", "PostToolUse", "PostToolUseFailure",
          "PreCompact", "PostCompact", "PermissionRequest", "PermissionDenied", "Stop", "Notification")
TOOL_EVENTS = frozenset({"PreToolUse", "PostToolUse", "PostToolUseFailure", "PermissionRequest", "PermissionDenied"})
DEFAULT_TIMEOUT = 60.0
MAX_TIMEOUT = 3600.0
# The names users bring from Claude Code's matchers, for lime's tools.
FOREIGN_NAMES = {"bash": "Bash", "edit_file": "Edit|MultiEdit", "write_file": "Write", "read_file": "Read",
                 "glob_search": "Glob", "grep_search": "Grep"}


@dataclass(frozen=True)
class HookSpec:
    event: str
    command: str
    matcher: str | None  # a regular expression over the tool's name; None: every tool
    timeout: float
    scope: str
    origin: str

    def matches(self, tool: str | None) -> bool:
        if self.matcher is None or tool is None:
            return True
        pattern = re.compile(self.matcher)
        return bool(pattern.fullmatch(tool)) or any(
            pattern.fullmatch(name) for name in FOREIGN_NAMES.get(tool, "").split("|") if name)


def _timeout(value: Any, where: str) -> float:
    if value is None:
        return DEFAULT_TIMEOUT
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= MAX_TIMEOUT:
        raise ConfigError(f"{where}: timeout must be a number of seconds between 0 and {MAX_TIMEOUT:.0f}")
    return float(value)


def _matcher(value: Any, where: str) -> str | None:
    if value is None or value in ("", "*"):
        return None
    if not isinstance(value, str):
        raise ConfigError(f"{where}: matcher must be a string (tool names, e.g. \"bash|edit_file\")")
    try:
        re.compile(value)
    except re.error as exc:
        raise ConfigError(f"{where}: matcher {value[:60]!r} is not a valid pattern ({exc})") from None
    return value


def parse(data: Any, scope: str, origin: str, notes: list[str], *, root: Path | None = None) -> list[HookSpec]:
    """The hooks of one settings file's ``hooks`` object; a malformed entry is a ConfigError.
    ``root``: a plugin's directory, which ``${LIME_PLUGIN_ROOT}`` in a command names."""
    hooks = _parse(data, scope, origin, notes)
    if root is None:
        return hooks
    import dataclasses
    import shlex

    return [dataclasses.replace(h, command=h.command.replace("${LIME_PLUGIN_ROOT}", shlex.quote(str(root))))
            for h in hooks]


def _parse(data: Any, scope: str, origin: str, notes: list[str]) -> list[HookSpec]:
    if not isinstance(data, dict):
        raise ConfigError(f"{origin}: hooks must be an object of event names")
    out: list[HookSpec] = []
    for event, entries in data.items():
        where = f"{origin}: hooks.{event}"
        if event not in EVENTS:
            notes.append(f"{where}: unknown hook event, ignored (events: {', '.join(EVENTS)})")
            continue
        if entries is None:
            continue
        if not isinstance(entries, list):
            raise ConfigError(f"{where} must be a list of commands")
        for entry in entries:
            if isinstance(entry, str):
                if entry.strip():
                    out.append(HookSpec(event, entry, None, DEFAULT_TIMEOUT, scope, origin))
                continue
            if not isinstance(entry, dict):
                raise ConfigError(f"{where}: each hook is a command string or an object")
            matcher = _matcher(entry.get("matcher"), where)
            inner = entry.get("hooks", [entry] if "command" in entry else None)
            if not isinstance(inner, list):
                raise ConfigError(f"{where}: a matcher entry needs \"hooks\": [{{\"type\": \"command\", ...}}]")
            for hook in inner:
                if isinstance(hook, str):
                    hook = {"command": hook}
                if not isinstance(hook, dict) or not isinstance(hook.get("command"), str):
                    raise ConfigError(f"{where}: each hook needs a \"command\" string")
                if hook.get("type", "command") != "command":
                    notes.append(f"{where}: hook type {str(hook.get('type'))[:20]!r} is not supported, ignored")
                    continue
                if hook["command"].strip():
                    out.append(HookSpec(event, hook["command"], matcher, _timeout(hook.get("timeout"), where),
                                        scope, origin))
    return out


def describe(specs: list[HookSpec]) -> list[str]:
    """One line per hook, for the trust question and ``lime status``."""
    return [f"{s.event}{f' [{s.matcher}]' if s.matcher else ''}: {s.command[:80]}" for s in specs]
