"""Lime's settings files, merged: which permission rules apply, the default mode, the sandbox switch.

Scopes, lowest to highest precedence (Lime's "Settings files"):

  user     ``$LIME_CONFIG_HOME/settings.json`` (``~/.lime/settings.json``)
  project  ``.lime.json`` and ``.lime/settings.json`` (checked in; used only in a trusted folder)
  local    ``.lime/settings.local.json`` (this machine; used only in a trusted folder)
  flag     ``--settings FILE_OR_JSON``

Each may hold ``{"permissions": {"allow": [], "ask": [], "deny": [], "defaultMode": "..."},
"sandbox": true, "hooks": {...}}`` (hooks: ``hooks.py``). Rule lists add up across scopes (each rule remembers where it came from).
``permissions.defaultMode`` and ``sandbox`` lower trust, so they are honoured only from user,
local and flag: a file checked into a repository cannot switch a teammate's lime to
``bypassPermissions`` or turn the sandbox off. A "local" file that git tracks came with the clone:
it is read as project scope (``local_scope``), and lime says so. Other keys belong to other parts
of Lime and are ignored here. Stdlib only (start-up path).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lime.errors import ConfigError, UsageError
from lime.runtime import settings_keys
from lime.runtime.modes import MODES

if TYPE_CHECKING:
    from lime.runtime.hookconfig import HookSpec

SCOPES = ("user", "project", "local", "flag")
TRUSTED_SCOPES = ("user", "local", "flag")
RULE_KINDS = ("allow", "ask", "deny")
MAX_SETTINGS_BYTES = 1_000_000


@dataclass(frozen=True)
class RawRule:
    """A permission rule as a settings file wrote it, with its scope and origin, not yet parsed."""

    text: str
    scope: str
    origin: str  # the file (or "--settings") it came from, for messages


@dataclass
class Settings:
    """The settings files merged: rules, mode, sandbox, hooks, the other keys and where each came from."""

    rules: dict[str, list[RawRule]] = field(default_factory=lambda: {k: [] for k in RULE_KINDS})
    default_mode: str | None = None
    mode_origin: str | None = None
    sandbox: bool | None = None
    sandbox_origin: str | None = None
    # "sandbox": {"networkIsolation": true}: commands get no network (any scope may turn it on).
    network_isolation: bool = False
    loaded: list[str] = field(default_factory=list)
    # Things a file asked for and did not get (shown once as notices).
    notes: list[str] = field(default_factory=list)
    # model, reasoningEffort, verbosity, additionalDirectories, env, and every value's origin.
    keys: settings_keys.Keys = field(default_factory=settings_keys.Keys)
    # "hooks": every scope's, in order (project and local files are read only in a trusted folder).
    hooks: list[HookSpec] = field(default_factory=list)


def _parse(text: str, origin: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{origin} is not valid JSON (line {exc.lineno}, column {exc.colno})") from None
    except RecursionError:
        raise ConfigError(f"{origin} is nested too deeply") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{origin} must hold a JSON object")
    return data


def read_file(path: Path) -> dict[str, Any] | None:
    """A settings file's object (JSON, or TOML for a ``.toml`` file), or None when it does not exist."""
    from lime.storage import read_config_text

    if path.suffix == ".toml":
        return settings_keys.read_toml(path, MAX_SETTINGS_BYTES)

    text = read_config_text(path, limit=MAX_SETTINGS_BYTES)
    return None if text is None else _parse(text, str(path))


def read_flag(value: str) -> tuple[dict[str, Any], str]:
    """``--settings``: inline JSON (starts with ``{``) or the path of a JSON or TOML file."""
    if value.lstrip().startswith("{"):
        return _parse(value, "--settings"), "--settings"
    path = Path(value).expanduser()
    data = read_file(path)
    if data is None:
        raise UsageError(f"--settings {value}: no such file (give a file path or inline JSON)")
    return data, f"--settings {path}"


def _strings(value: Any, origin: str, key: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{origin}: {key} must be a list of strings")
    return [v.strip() for v in value if v.strip()]


def local_scope(tracked: str | None) -> str:
    """The scope of ``.lime/settings.local.json``: ``local``, unless the repository brought it
    (``tracked`` says why: git tracks it), which makes it project settings like any checked-in file."""
    return "project" if tracked else "local"


def apply(settings: Settings, data: dict[str, Any], scope: str, origin: str, *, why: str | None = None) -> None:
    """Merge one scope's object into ``settings``; ``why`` explains a project-scope file in the one
    line that names what was ignored from it."""
    settings.loaded.append(origin)
    settings_keys.apply(settings.keys, data, scope, origin, settings.notes, scope in TRUSTED_SCOPES)
    ignored: list[str] = []
    if "hooks" in data:
        from lime.runtime import hookconfig

        settings.hooks += hookconfig.parse(data["hooks"], scope, origin, settings.notes)
    perms = data.get("permissions")
    if perms is not None:
        if not isinstance(perms, dict):
            raise ConfigError(f"{origin}: permissions must be an object")
        for kind in RULE_KINDS:
            for text in _strings(perms.get(kind), origin, f"permissions.{kind}"):
                settings.rules[kind].append(RawRule(text, scope, origin))
        mode = perms.get("defaultMode")
        if mode is not None:
            if mode not in MODES:
                raise ConfigError(f"{origin}: permissions.defaultMode must be one of {', '.join(MODES)}, got {mode!r}")
            if scope in TRUSTED_SCOPES:
                settings.default_mode, settings.mode_origin = mode, origin
            else:
                ignored.append("permissions.defaultMode")
    if "sandbox" in data:
        raw = data["sandbox"]
        enabled = raw.get("enabled", True) if isinstance(raw, dict) else raw
        if not isinstance(enabled, bool):
            raise ConfigError(f"{origin}: sandbox must be true or false (or {{\"enabled\": true|false}})")
        if isinstance(raw, dict) and "enabled" not in raw:
            pass  # {"networkIsolation": ...} alone leaves the switch as it was
        elif scope in TRUSTED_SCOPES:
            settings.sandbox, settings.sandbox_origin = enabled, origin
        elif not enabled:
            ignored.append("sandbox: false")
        isolate = raw.get("networkIsolation", False) if isinstance(raw, dict) else False
        if not isinstance(isolate, bool):
            raise ConfigError(f"{origin}: sandbox.networkIsolation must be true or false")
        settings.network_isolation = settings.network_isolation or isolate
    if ignored or why:
        what = f"ignored {' and '.join(ignored)} in {origin}" if ignored else f"read {origin} as project settings"
        because = f"{why}, so it is project settings" if why else "it is project settings"
        settings.notes.append(f"{what} ({because}: only user settings, an untracked .lime/settings.local.json "
                              "or --settings may set the permission mode or turn the sandbox off)")


def parse_sources(value: str | None) -> set[str]:
    """``--setting-sources user,local``: the scopes to merge (default: all)."""
    if value is None:
        return set(SCOPES)
    chosen = {s.strip() for s in value.split(",") if s.strip()}
    unknown = chosen - set(SCOPES) - {"policy"}
    if unknown:
        raise UsageError(f"--setting-sources: unknown scope {sorted(unknown)[0]!r} (choose from {', '.join(SCOPES)})")
    return chosen


def load(*, user: Path | None, project: list[Path], local: Path | None, flag: str | None,
         sources: set[str] | None = None, local_tracked: str | None = None) -> Settings:
    """Merge the scopes that exist; ``project`` and ``local`` are passed only for a trusted folder.
    ``local_tracked`` says why the local file is the repository's (git tracks it), if it is."""
    sources = set(SCOPES) if sources is None else sources
    settings = Settings()
    files: list[tuple[str, Path | None]] = [("user", user), *(("project", p) for p in project), ("local", local)]
    for scope, first in files:
        if first is None or scope not in sources:
            continue
        for path in (first, settings_keys.companion(first)):  # within a scope, TOML after JSON
            data = read_file(path) if path is not None else None
            if data is None:
                continue
            if scope == "local" and local_scope(local_tracked) == "project":
                apply(settings, data, "project", str(path), why=local_tracked)
            else:
                apply(settings, data, scope, str(path))
    if flag is not None and "flag" in sources:
        data, origin = read_flag(flag)
        apply(settings, data, "flag", origin)
    return settings
