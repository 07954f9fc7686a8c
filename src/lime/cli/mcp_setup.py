"""The configured MCP servers of a chat (or of ``lime mcp list``): which may start here, started
together, and their tools handed to the session factory.

User servers and ``--settings`` ones start; local ones (``.lime/settings.local.json``) when the
folder is trusted; project ones (``.lime.json``, ``.mcp.json``) once approved for this project.
Nothing under ``lime.mcp`` beyond its config reader is imported when no server is configured.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lime.mcp.client import Hooks
    from lime.mcp.manager import Servers


def configured(args: argparse.Namespace, say: Callable[[str], None], *, trusted: bool | None = None,
               ask: bool = True) -> tuple[list[Any], Path]:
    """(the servers that may start here, the project root): project ones only once approved."""
    from lime.mcp import config as mcfg
    from lime.runtime import settings as settings_mod

    files = mcfg.Files.here()
    if trusted is None:
        from lime.runtime import project as projects

        trusted = bool(getattr(args, "trust", False)) or projects.is_trusted(files.root)
    sources = settings_mod.parse_sources(getattr(args, "setting_sources", None))
    if not trusted:
        sources.discard("local")
    flag = getattr(args, "settings", None)
    flag_data, flag_origin = settings_mod.read_flag(flag) if flag else (None, "--settings")
    found = mcfg.configured(files, flag=flag_data if "flag" in sources else None, flag_origin=flag_origin,
                            sources=sources)
    project = [c for c in found if c.scope == "project" and not c.disabled]
    if project:
        from lime.mcp import choices

        if ask:
            approved = {c.name for c in choices.approve(files.root, project, say)}
        else:
            approved = {c.name for c in project if choices.decision(files.root, c) is True}
        for c in project:
            if c.name not in approved:
                c.raw = {**c.raw, "_status": "not approved"}
    return found, files.root


def load_servers(args: argparse.Namespace, say: Callable[[str], None], *, start: bool, ask: bool,
                 trusted: bool | None = None, hooks: Hooks | None = None,
                 roots: list[Path] | None = None) -> Servers | None:
    found, root = configured(args, say, trusted=trusted, ask=ask)
    if not found:
        return None
    from lime.mcp.client import Hooks
    from lime.mcp.manager import Servers

    if hooks is None:
        hooks = Hooks(roots=roots or [root])
    servers = Servers(found, root, hooks, say)
    for s in servers.servers.values():
        if s.cfg.raw.get("_status") == "not approved":
            s.status = "not approved"
    if start:
        servers.start()
    return servers
