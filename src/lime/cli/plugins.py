"""Plugins: a directory bundling hooks, custom commands, skills and MCP servers.

A plugin is a directory holding ``.lime-plugin/plugin.json`` (``id``, ``name``, ``version``,
``description``, ``author``, ``permissions.tools``), found in ``~/.lime/plugins/`` and in the
directories the user's ``plugins.externalDirectories`` names. It brings:

  hooks        ``hooks`` in plugin.json, or ``hooks/hooks.json`` (``{"hooks": {...}}``)
  commands     ``commands/NAME.md``
  skills       ``skills/NAME/SKILL.md``
  MCP servers  ``mcpServers`` in plugin.json, or ``.mcp.json``

Nothing of a plugin is used until the user enables it (``enabledPlugins`` in the user's settings,
``lime plugin enable ID``); a repository cannot enable one. Installing is copying a directory
(``lime plugin install PATH``); there is no download.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lime.errors import ConfigError, LimeError

ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@-]{0,99}")
MANIFEST = Path(".lime-plugin") / "plugin.json"
MAX_BYTES = 1_000_000


@dataclass
class Plugin:
    id: str
    root: Path
    manifest: dict[str, Any] = field(default_factory=dict)

    def text(self, key: str) -> str:
        value = self.manifest.get(key)
        if isinstance(value, dict):  # "author": {"name": ...}
            value = value.get("name")
        return str(value) if isinstance(value, (str, int, float)) else ""

    @property
    def tools(self) -> list[str]:
        perms = self.manifest.get("permissions")
        tools = perms.get("tools") if isinstance(perms, dict) else None
        return [t for t in tools if isinstance(t, str)] if isinstance(tools, list) else []

    def _json(self, rel: str) -> dict[str, Any]:
        path = self.root / rel
        if path.is_symlink() or not path.is_file():
            return {}
        try:
            data = json.loads(path.read_text(encoding="utf-8")[:MAX_BYTES])
        except (OSError, ValueError):
            raise ConfigError(f"plugin {self.id}: {path} is not valid JSON") from None
        return data if isinstance(data, dict) else {}

    def hooks(self) -> Any:
        return self.manifest.get("hooks") or self._json("hooks/hooks.json").get("hooks") or {}

    def servers(self) -> dict[str, Any]:
        block = self.manifest.get("mcpServers") or self._json(".mcp.json").get("mcpServers") or {}
        return block if isinstance(block, dict) else {}

    def folder(self, name: str) -> Path | None:
        path = self.root / name
        return path if path.is_dir() and not path.is_symlink() else None

    def abilities(self) -> list[str]:
        """What enabling the plugin lets it do, for ``lime plugin enable`` and ``list``."""
        from lime.runtime.hookconfig import describe, parse

        out: list[str] = []
        try:
            specs = parse(self.hooks(), "plugin", f"plugin {self.id}", [])
        except LimeError as exc:
            specs = []
            out.append(f"hooks: unreadable ({exc})")
        if specs:
            out.append("run hook commands on this machine: " + "; ".join(describe(specs)))
        commands = self.folder("commands")
        if commands is not None:
            names = sorted(p.stem for p in commands.glob("*.md"))
            if names:
                out.append("add slash commands: " + ", ".join(f"/{n}" for n in names))
        skills = self.folder("skills")
        if skills is not None:
            names = sorted(p.parent.name for p in skills.glob("*/SKILL.md"))
            if names:
                out.append("offer skills to the model: " + ", ".join(names))
        servers = self.servers()
        if servers:
            out.append("start MCP servers: " + ", ".join(
                f"{n} ({v.get('command') or v.get('url') or '?'})" for n, v in servers.items() if isinstance(v, dict)))
        if self.tools:
            out.append("asks for the tools: " + ", ".join(self.tools))
        return out or ["nothing (it bundles no hooks, commands, skills or MCP servers)"]


def _user_settings() -> dict[str, Any]:
    from lime import config
    from lime.runtime.settings import read_file

    try:
        return read_file(config.config_home() / "settings.json") or {}
    except LimeError:
        return {}


def folders() -> list[Path]:
    from lime import config

    out = [config.config_home() / "plugins"]
    block = _user_settings().get("plugins")
    extra = block.get("externalDirectories") if isinstance(block, dict) else None
    if isinstance(extra, list):
        out += [Path(d).expanduser() for d in extra if isinstance(d, str)]
    return out


def discover() -> dict[str, Plugin]:
    """Every installed plugin, by id (the first found wins)."""
    found: dict[str, Plugin] = {}
    for folder in folders():
        if not folder.is_dir():
            continue
        for root in sorted(folder.iterdir()):
            path = root / MANIFEST
            if root.is_symlink() and folder.name == "plugins" or not path.is_file() or path.is_symlink():
                continue
            try:
                data = json.loads(path.read_text(encoding="utf-8")[:MAX_BYTES])
            except (OSError, ValueError):
                continue
            if not isinstance(data, dict):
                continue
            pid = str(data.get("id") or data.get("name") or root.name)
            if ID_RE.fullmatch(pid) and pid not in found:
                found[pid] = Plugin(pid, root, data)
    return found


def enabled_ids() -> set[str]:
    value = _user_settings().get("enabledPlugins")
    if isinstance(value, dict):
        return {k for k, v in value.items() if v is True}
    if isinstance(value, list):
        return {v for v in value if isinstance(v, str)}
    return set()


def enabled() -> list[Plugin]:
    ids = enabled_ids()
    if not ids:
        return []
    return [p for pid, p in sorted(discover().items()) if pid in ids]


def set_enabled(pid: str, on: bool) -> None:
    from lime import config
    from lime.mcp.config import edit

    def change(data: dict[str, Any]) -> None:
        current = data.get("enabledPlugins")
        if isinstance(current, list):
            current = {k: True for k in current if isinstance(k, str)}
        if not isinstance(current, dict):
            current = {}
        current[pid] = on
        data["enabledPlugins"] = current

    edit(config.config_home() / "settings.json", change)
