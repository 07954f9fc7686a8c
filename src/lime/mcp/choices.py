"""Project servers (``.lime.json``, ``.mcp.json``) start only after the user approved them for that
project; the answer is remembered per project in the config home.

An answer is bound to what was approved: the entry's fingerprint (command, arguments, env, URL,
headers). A pull that changes a checked-in server's command asks again instead of running the new
command on an old yes. Without a terminal nothing is asked and unapproved servers stay stopped.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lime.mcp.config import ServerConfig
from lime.textsafe import sanitize

CHOICES_FILE = "mcp-project-choices.json"


def path() -> Path:
    from lime import config

    return config.config_home() / CHOICES_FILE


def fingerprint(cfg: ServerConfig) -> str:
    keys = ("type", "command", "args", "env", "cwd", "url", "headers")
    shape = {k: cfg.raw.get(k) for k in keys}
    shape["type"] = cfg.type
    return hashlib.sha256(json.dumps(shape, sort_keys=True).encode()).hexdigest()[:32]


def _load() -> dict[str, Any]:
    from lime.mcp.config import read

    data = read(path()) or {}
    projects = data.get("projects")
    return projects if isinstance(projects, dict) else {}


def decision(root: Path, cfg: ServerConfig) -> bool | None:
    """True (approved), False (refused) or None (not asked, or the entry changed since)."""
    entry = _load().get(str(root), {}).get(cfg.name)
    if not isinstance(entry, dict) or entry.get("fingerprint") != fingerprint(cfg):
        return None
    return entry.get("approved") is True


def remember(root: Path, cfg: ServerConfig, approved: bool) -> None:
    from lime.mcp.config import edit

    def change(data: dict[str, Any]) -> None:
        projects = data.setdefault("projects", {})
        if not isinstance(projects, dict):
            data["projects"] = projects = {}
        projects.setdefault(str(root), {})[cfg.name] = {"approved": approved, "fingerprint": fingerprint(cfg)}

    edit(path(), change)


def reset(root: Path | None) -> int:
    """Forget the choices for ``root`` (every project when None); how many were forgotten."""
    from lime.mcp.config import edit

    def change(data: dict[str, Any]) -> int:
        projects = data.get("projects")
        if not isinstance(projects, dict):
            return 0
        if root is None:
            n = sum(len(v) for v in projects.values() if isinstance(v, dict))
            data["projects"] = {}
            return n
        gone = projects.pop(str(root), None)
        return len(gone) if isinstance(gone, dict) else 0

    if not path().exists():
        return 0
    result: int = edit(path(), change)
    return result


def interactive() -> bool:
    return sys.stdin is not None and sys.stdin.isatty() and sys.stderr.isatty()


def approve(root: Path, pending: list[ServerConfig], say: Callable[[str], None]) -> list[ServerConfig]:
    """The project servers that may start: approved before, or approved now on a terminal."""
    approved: list[ServerConfig] = []
    unasked: list[ServerConfig] = []
    for cfg in pending:
        known = decision(root, cfg)
        if known is True:
            approved.append(cfg)
        elif known is None:
            unasked.append(cfg)
    if not unasked:
        return approved
    if not interactive():
        names = ", ".join(sanitize(c.name) for c in unasked)
        say(f"skipped project MCP servers not yet approved ({names}): run lime here on a terminal to approve them")
        return approved
    for cfg in unasked:
        variables = cfg.variables()
        lines = [f"\nlime: this project ({sanitize(cfg.origin)}) configures the MCP server {sanitize(cfg.name)!r}:",
                 f"  {'command' if cfg.type == 'stdio' else cfg.type + ' URL'}: {sanitize(cfg.describe())}"]
        if cfg.env:
            lines.append(f"  sets environment: {', '.join(sanitize(k) for k in sorted(cfg.env))}")
        if variables:
            lines.append(f"  reads your environment variables: {', '.join(variables)}")
        if cfg.cwd:
            lines.append(f"  in directory: {sanitize(cfg.cwd)}")
        lines.append("  Start it now and whenever lime runs in this project? [y]es / [n]o: ")
        sys.stderr.write("\n".join(lines))
        sys.stderr.flush()
        try:
            answer = sys.stdin.readline().strip().lower()
        except KeyboardInterrupt:
            answer = ""
            sys.stderr.write("\n")
        ok = answer in ("y", "yes")
        remember(root, cfg, ok)
        if ok:
            approved.append(cfg)
        else:
            say(f"not starting the project MCP server {sanitize(cfg.name)} (lime mcp reset-project-choices asks again)")
    return approved
