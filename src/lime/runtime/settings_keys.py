"""The settings keys beyond permission rules and the sandbox, the TOML settings files, and where each
merged value came from (``/config`` shows it).

Keys (Lime's "Settings files"):

  model / models.default.slug       the model when neither --model nor LIME_MODEL names one
  reasoningEffort, verbosity        defaults for --reasoning-effort / --verbosity (a model that does
                                    not take them simply goes without)
  permissions.additionalDirectories more directories the tools may use, like --add-dir
  env                               variables set for the commands the model runs

TOML: ``config.toml`` follows ``settings.json`` in the user and project scopes, and
``settings.local.toml`` follows ``settings.local.json``; within a scope the later file wins.

A repository's checked-in settings (the project scope) cannot widen what the tools reach
(``additionalDirectories``) nor set variables that change what programs load or run, where they
look for them, or that hold credentials (``PATH``, ``LD_PRELOAD``, ``*_API_KEY``...): those are
dropped with a notice. Stdlib only.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lime.config import TOML_AFTER
from lime.errors import ConfigError

LEVEL_KEYS = {"reasoningEffort": "reasoning", "verbosity": "verbosity"}
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
MAX_ENV_VALUE = 32_768

# Variables a checked-in settings file may not set for the commands the model runs.
DANGEROUS_ENV = (
    "PATH", "LD_*", "DYLD_*", "BASH_ENV", "ENV", "SHELL", "SHELLOPTS", "BASHOPTS", "IFS", "PS4", "PROMPT_COMMAND",
    "HOME", "TMPDIR", "PYTHON*", "PERL5*", "PERLLIB", "RUBYOPT", "RUBYLIB", "NODE_OPTIONS", "NODE_PATH",
    "JAVA_TOOL_OPTIONS", "_JAVA_OPTIONS", "CLASSPATH", "GIT_*", "SSH_*", "GNUPGHOME", "GPG_*", "EDITOR",
    "VISUAL", "PAGER", "LESSOPEN", "LESSCLOSE", "MANPAGER", "BROWSER", "*_PROXY", "*_proxy", "LIME_*",
    "*_API_KEY", "*_KEY", "*_TOKEN", "*SECRET*", "*PASSWORD*", "*CREDENTIAL*", "AWS_*", "GOOGLE_*", "AZURE_*",
    "XDG_*", "SUDO_*", "NPM_CONFIG_*", "PIP_*", "CARGO_*", "RUSTC_WRAPPER", "GOFLAGS", "GOPROXY", "CC", "CXX",
)


def dangerous_env(name: str) -> bool:
    return any(fnmatch.fnmatchcase(name.upper(), pattern.upper()) for pattern in DANGEROUS_ENV)


@dataclass(frozen=True)
class Value:
    """A settings value and the file (or flag) it came from, for messages and ``/config``."""

    value: Any
    origin: str


@dataclass
class Keys:
    """The keys beyond rules and the sandbox, merged, each value with where it came from."""

    model: Value | None = None
    levels: dict[str, Value] = field(default_factory=dict)  # "reasoning" / "verbosity"
    add_dirs: list[Value] = field(default_factory=list)
    env: dict[str, Value] = field(default_factory=dict)
    # Every leaf value read, dotted name -> the values in merge order (the last one wins for scalars).
    seen: dict[str, list[Value]] = field(default_factory=dict)


def companion(path: Path) -> Path | None:
    """The TOML file read after ``path`` in the same scope."""
    name = TOML_AFTER.get(path.name)
    return path.with_name(name) if name else None


def read_toml(path: Path, limit: int) -> dict[str, Any] | None:
    from lime.storage import read_config_text

    text = read_config_text(path, limit=limit)
    if text is None:
        return None
    import tomllib  # only when there is a TOML file (start-up path)

    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML ({exc})") from None
    except RecursionError:
        raise ConfigError(f"{path} is nested too deeply") from None


def _record(keys: Keys, data: Any, origin: str, prefix: str = "") -> None:
    if isinstance(data, dict) and (data or not prefix):
        for k, v in data.items():
            _record(keys, v, origin, f"{prefix}.{k}" if prefix else str(k))
        return
    keys.seen.setdefault(prefix, []).append(Value(data, origin))


def _text(value: Any, origin: str, key: str) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > 200:
        raise ConfigError(f"{origin}: {key} must be a non-empty string")
    return value.strip()


def apply(keys: Keys, data: dict[str, Any], scope: str, origin: str, notes: list[str], trusted: bool) -> None:
    """Merge one file's keys; ``trusted``: the scope may widen access (user, local, --settings)."""
    _record(keys, data, origin)
    models = data.get("models")
    if models is not None and not isinstance(models, dict):
        raise ConfigError(f"{origin}: models must be an object")
    default = (models or {}).get("default")
    if default is not None:
        if not isinstance(default, dict):
            raise ConfigError(f"{origin}: models.default must be an object with a slug")
        if "slug" in default:
            keys.model = Value(_text(default["slug"], origin, "models.default.slug"), origin)
    if "model" in data:
        keys.model = Value(_text(data["model"], origin, "model"), origin)
    for key, name in LEVEL_KEYS.items():
        if key in data:
            keys.levels[name] = Value(_text(data[key], origin, key).lower(), origin)
    perms = data.get("permissions")
    dirs = perms.get("additionalDirectories") if isinstance(perms, dict) else None
    if dirs is not None:
        if not isinstance(dirs, list) or not all(isinstance(d, str) and d.strip() for d in dirs):
            raise ConfigError(f"{origin}: permissions.additionalDirectories must be a list of directory paths")
        if trusted:
            keys.add_dirs.extend(Value(d.strip(), origin) for d in dirs)
        else:
            notes.append(f"ignored permissions.additionalDirectories in {origin} (only user and local settings "
                         "or --settings may give the tools more directories)")
    env = data.get("env")
    if env is not None:
        if not isinstance(env, dict):
            raise ConfigError(f"{origin}: env must be an object of NAME: value")
        refused = []
        for name, value in env.items():
            if not ENV_NAME.match(name):
                raise ConfigError(f"{origin}: env: {name[:40]!r} is not a variable name")
            if isinstance(value, bool) or not isinstance(value, (str, int, float)):
                raise ConfigError(f"{origin}: env.{name} must be a string")
            text = str(value)
            if "\0" in text or len(text) > MAX_ENV_VALUE:
                raise ConfigError(f"{origin}: env.{name} must be text without NUL, at most {MAX_ENV_VALUE:,} characters")
            if not trusted and dangerous_env(name):
                refused.append(name)
                continue
            keys.env[name] = Value(text, origin)
        if refused:
            notes.append(f"ignored env {', '.join(sorted(refused))} in {origin} (a project's settings may not set "
                         "variables that change which programs run or that hold credentials)")


def add_dirs(keys: Keys, flags: list[str]) -> tuple[list[str], list[str]]:
    """``--add-dir`` values followed by the settings' additionalDirectories (``~`` expands), and a
    note for each configured directory that does not exist (skipped, not an error)."""
    out, notes = list(flags), []
    for v in keys.add_dirs:
        path = Path(v.value).expanduser()
        if not path.is_dir():
            notes.append(f"permissions.additionalDirectories in {v.origin}: {v.value} is not a directory; skipped")
        elif str(path) not in out:
            out.append(str(path))
    return out, notes
