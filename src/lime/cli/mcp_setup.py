"""The configured MCP servers of a chat (or of ``lime mcp list``): which may start here, started
together, and their tools handed to the session factory.

User servers and ``--settings`` ones start; local ones (``.lime/settings.local.json``) when the
folder is trusted; project ones (``.lime.json``, ``.mcp.json``) once approved for this project.
Nothing under ``lime.mcp`` beyond its list of files is imported when no file could configure a server.
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
               ask: bool = True) -> tuple[list[Any], Path, set[str]]:
    """(the servers configured here, the project root, the project servers not approved to start)."""
    from lime.cli import plugins
    from lime.mcp.files import Files, candidates

    files = Files.here()
    flag = getattr(args, "settings", None)
    if not flag and not plugins.enabled_ids() and not any(p.is_file() for _, p in candidates(files)):
        return [], files.root, set()  # no file that could name a server: the reader is not even loaded
    from lime.mcp import config as mcfg
    from lime.runtime import settings as settings_mod

    if trusted is None:
        from lime.runtime import project as projects

        trusted = bool(getattr(args, "trust", False)) or projects.is_trusted(files.root)
    sources = settings_mod.parse_sources(getattr(args, "setting_sources", None))
    if not trusted:
        sources.discard("local")
    flag_data, flag_origin = settings_mod.read_flag(flag) if flag else (None, "--settings")
    from lime.runtime import project as projects

    tracked = projects.local_tracked(files.root, files.local.parent) if "local" in sources else None
    found = mcfg.configured(files, flag=flag_data if "flag" in sources else None, flag_origin=flag_origin,
                            sources=sources, local_as=settings_mod.local_scope(tracked))
    names = {c.name for c in found}
    for plugin in plugins.enabled():  # the user enabled it: its servers are theirs
        found += [c for c in mcfg.servers_in({"mcpServers": plugin.servers()}, "user", f"plugin {plugin.id}")
                  if c.name not in names]
    if tracked and any(c.origin.startswith(str(files.local.parent)) for c in found):
        say(f"MCP servers in {files.local.parent}/settings.local.* need approval like project ones ({tracked})")
    project = [c for c in found if c.scope == "project" and not c.disabled]
    unapproved: set[str] = set()
    if project:
        from lime.mcp import choices

        if ask:
            approved = {c.name for c in choices.approve(files.root, project, say)}
        else:
            approved = {c.name for c in project if choices.decision(files.root, c) is True}
        unapproved = {c.name for c in project} - approved
    return found, files.root, unapproved


def load_servers(args: argparse.Namespace, say: Callable[[str], None], *, start: bool, ask: bool,
                 trusted: bool | None = None, hooks: Hooks | None = None,
                 roots: list[Path] | None = None) -> Servers | None:
    found, root, unapproved = configured(args, say, trusted=trusted, ask=ask)
    if not found:
        return None
    from lime.mcp.client import Hooks
    from lime.mcp.manager import Servers

    if hooks is None:
        hooks = Hooks(roots=roots or [root])
    servers = Servers(found, root, hooks, say, unapproved=unapproved)
    if start:
        servers.start()
    return servers
