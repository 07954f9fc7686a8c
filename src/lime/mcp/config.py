"""Where MCP servers are configured and what an entry may say.

``mcpServers`` in any settings file (``[mcpServers.NAME]`` tables in the TOML ones), Lime's shape::

    stdio   {"type": "stdio", "command": "npx", "args": [...], "env": {...}, "cwd": "...",
             "toolCallTimeoutMs": 30000}
    remote  {"type": "http" | "streamable-http" | "sse" | "ws", "url": "...", "headers": {...}, "oauth": {...}}

plus ``"disabled": true`` (``lime mcp disable``), ``"startupTimeoutMs"`` and ``"tools": {"allow": [...],
"deny": [...]}`` (tool names as the server gives them; ``*`` globs).

Scopes: user (``~/.lime/settings.json``) and local (``.lime/settings.local.json``) start at launch;
project (``.lime.json``, ``.mcp.json``) only once the user approved them for the project
(``choices``); ``--settings`` counts as the user's own. ``${NAME}`` is expanded from the environment
when a server starts, not when the file is read: the file keeps the reference, never the secret.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lime.errors import ConfigError, UsageError
from lime.mcp.files import Files as Files
from lime.mcp.files import candidates
from lime.mcp.files import project_root as project_root

TRANSPORTS = ("stdio", "http", "sse", "ws")
TYPE_ALIASES = {"streamable-http": "http", "streamable_http": "http", "streamableHttp": "http"}
SCOPES = ("user", "local", "project")
TRUSTED_SCOPES = ("user", "local", "flag")
DEFAULT_CALL_TIMEOUT_MS = 30_000
DEFAULT_STARTUP_TIMEOUT_MS = 30_000
NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,47}")
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


@dataclass
class ServerConfig:
    name: str
    type: str
    scope: str
    origin: str  # the file (or --settings) it came from
    command: str | None = None
    args: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    cwd: str | None = None
    url: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    oauth: dict[str, Any] | None = None
    call_timeout: float = DEFAULT_CALL_TIMEOUT_MS / 1000
    startup_timeout: float = DEFAULT_STARTUP_TIMEOUT_MS / 1000
    disabled: bool = False
    tools_allow: list[str] | None = None
    tools_deny: list[str] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def trusted(self) -> bool:
        return self.scope in TRUSTED_SCOPES

    def variables(self) -> list[str]:
        """The environment variables the entry expands (shown when asking to approve it)."""
        texts = [self.command or "", *self.args, *self.env.values(), self.url or "", *self.headers.values(),
                 self.cwd or ""]
        return sorted({m.group(1) for t in texts for m in _VAR.finditer(t)})

    def describe(self) -> str:
        """The command line or URL, as the user would type it (shell-quoted)."""
        if self.type == "stdio":
            import shlex

            return shlex.join([self.command or "", *self.args])
        return self.url or ""

    def allows_tool(self, tool: str) -> bool:
        import fnmatch

        if any(fnmatch.fnmatchcase(tool, p) for p in self.tools_deny):
            return False
        return self.tools_allow is None or any(fnmatch.fnmatchcase(tool, p) for p in self.tools_allow)


def expand(text: str, env: dict[str, str] | None = None) -> str:
    """``${NAME}`` (and ``${NAME:-default}``) from the environment; an unset one is an error."""
    source = os.environ if env is None else env

    def sub(m: re.Match[str]) -> str:
        value = source.get(m.group(1))
        if value is None:
            if m.group(2) is not None:
                return m.group(2)
            raise ConfigError(f"the environment variable {m.group(1)} is not set")
        return value

    return _VAR.sub(sub, text)


def _strings(value: Any, where: str, what: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: {what} must be a list of strings")
    return list(value)


def _mapping(value: Any, where: str, what: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise ConfigError(f"{where}: {what} must be an object of strings")
    return dict(value)


def _millis(value: Any, where: str, what: str, default: int) -> float:
    if value is None:
        return default / 1000
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 86_400_000:
        raise ConfigError(f"{where}: {what} must be a number of milliseconds")
    return float(value) / 1000


def check_name(name: str, where: str = "") -> str:
    if not NAME_RE.fullmatch(name) or "__" in name:
        prefix = f"{where}: " if where else ""
        raise (ConfigError if where else UsageError)(
            f"{prefix}MCP server name {name[:60]!r} must be letters, digits, '-' and '_' (no '__'), at most 48")
    return name


def parse_server(name: str, entry: Any, scope: str, origin: str) -> ServerConfig:
    where = f"{origin}: mcpServers.{name[:60]}"
    check_name(name, origin)
    if not isinstance(entry, dict):
        raise ConfigError(f"{where} must be an object")
    kind = entry.get("type") or entry.get("transport") or ("stdio" if "command" in entry else
                                                          "http" if "url" in entry else None)
    kind = TYPE_ALIASES.get(kind, kind) if isinstance(kind, str) else kind
    if kind not in TRANSPORTS:
        raise ConfigError(f"{where}: type must be one of stdio, http, streamable-http, sse, ws")
    cfg = ServerConfig(name, kind, scope, origin, raw=entry)
    cfg.disabled = entry.get("disabled") is True or entry.get("enabled") is False
    cfg.call_timeout = _millis(entry.get("toolCallTimeoutMs"), where, "toolCallTimeoutMs", DEFAULT_CALL_TIMEOUT_MS)
    cfg.startup_timeout = _millis(entry.get("startupTimeoutMs"), where, "startupTimeoutMs",
                                  DEFAULT_STARTUP_TIMEOUT_MS)
    tools = entry.get("tools")
    if tools is not None:
        if not isinstance(tools, dict):
            raise ConfigError(f"{where}: tools must be an object with allow and deny lists")
        cfg.tools_allow = _strings(tools["allow"], where, "tools.allow") if "allow" in tools else None
        cfg.tools_deny = _strings(tools.get("deny"), where, "tools.deny")
    if kind == "stdio":
        command = entry.get("command")
        if not isinstance(command, str) or not command.strip():
            raise ConfigError(f"{where}: a stdio server needs a command")
        cfg.command = command
        cfg.args = _strings(entry.get("args"), where, "args")
        cfg.env = _mapping(entry.get("env"), where, "env")
        cwd = entry.get("cwd")
        if cwd is not None and not isinstance(cwd, str):
            raise ConfigError(f"{where}: cwd must be a string")
        cfg.cwd = cwd or None
    else:
        url = entry.get("url")
        if not isinstance(url, str) or not url.strip():
            raise ConfigError(f"{where}: a {kind} server needs a url")
        cfg.url = url.strip()
        cfg.headers = _mapping(entry.get("headers"), where, "headers")
        oauth = entry.get("oauth")
        if oauth is not None and not isinstance(oauth, dict):
            raise ConfigError(f"{where}: oauth must be an object")
        cfg.oauth = oauth
    return cfg


def servers_in(data: dict[str, Any], scope: str, origin: str) -> list[ServerConfig]:
    block = data.get("mcpServers")
    if block is None:
        return []
    if not isinstance(block, dict):
        raise ConfigError(f"{origin}: mcpServers must be an object")
    return [parse_server(name, entry, scope, origin) for name, entry in block.items()]


# -- the files -------------------------------------------------------------------------------------


def read(path: Path) -> dict[str, Any] | None:
    from lime.storage import parse_config_json, read_config_text

    text = read_config_text(path, limit=1_000_000)
    if text is None:
        return None
    if path.suffix == ".toml":
        import tomllib

        try:
            data: Any = tomllib.loads(text)
        except (tomllib.TOMLDecodeError, RecursionError) as exc:
            raise ConfigError(f"{path} is not valid TOML ({str(exc)[:200]})") from None
    else:
        data = parse_config_json(path, text)
    if not isinstance(data, dict):
        raise ConfigError(f"{path} must hold a JSON object")
    return data


def configured(files: Files, *, flag: dict[str, Any] | None = None, flag_origin: str = "--settings",
               sources: set[str] | None = None, local_as: str = "local") -> list[ServerConfig]:
    """Every configured server, one per name: local beats project beats user; --settings beats all.
    ``local_as="project"``: the local file came with the repository (git tracks it), so its servers
    need approval like any project server."""
    found: dict[str, ServerConfig] = {}
    for scope, path in candidates(files):
        if sources is not None and scope not in sources:
            continue
        if path.parent.name == ".lime" and path.parent.is_symlink():
            continue  # a .lime that is a symbolic link is never used (as for the rest of lime's settings)
        data = read(path)
        if data is not None:
            for cfg in servers_in(data, local_as if scope == "local" else scope, str(path)):
                found[cfg.name] = cfg
    if flag is not None:
        for cfg in servers_in(flag, "flag", flag_origin):
            found[cfg.name] = cfg
    return list(found.values())


def edit(path: Path, change: Any) -> Any:
    """Read-modify-write one settings file under its lock: ``change(data)`` edits the object in place."""
    from lime import config
    from lime.storage import atomic_write_json, locked

    if path.parent == config.config_home():
        config.ensure_home()
    elif path.parent.is_symlink():
        raise ConfigError(f"{path.parent} is a symbolic link; lime does not write through it")
    else:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"cannot create {path.parent}: {exc.strerror or exc}") from None
    with locked(path):
        data = read(path) or {}
        result = change(data)
        mode = 0o600 if path.parent == config.config_home() or path.name.endswith(".local.json") else 0o644
        atomic_write_json(path, data, mode=mode)
    return result
