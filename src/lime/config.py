"""Where lime keeps its files and which environment knobs it honours.

Every other module asks this one; nothing else reads ``LIME_*`` variables or builds paths
under the config home.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lime.errors import ConfigError

DEFAULT_MODEL = "gpt-5.4"
DEFAULT_MAX_RETRIES = 6
CREDENTIALS_NAME = "credentials.json"
SETTINGS_NAME = "config.json"
COMPAT_MEMORY_NAME = "compat.json"


def config_home() -> Path:
    raw = os.environ.get("LIME_CONFIG_HOME")
    return Path(raw).expanduser() if raw else Path.home() / ".lime"


def ensure_home() -> Path:
    """Create the config home (mode 0700) on first write; refuse one we cannot use."""
    home = config_home()
    try:
        home.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"cannot create config home {home}: {exc.strerror or exc}") from None
    if not home.is_dir():
        raise ConfigError(f"config home {home} is not a directory")
    if not os.access(home, os.R_OK | os.X_OK):
        raise ConfigError(f"config home {home} is not readable by you")
    # Not writable (read-only file system, full disk, permissions): the write itself says so, naming its file.
    return home


def check_home_readable() -> None:
    home = config_home()
    if home.exists() and not home.is_dir():
        raise ConfigError(f"config home {home} is not a directory (set LIME_CONFIG_HOME to a directory)")
    if home.exists() and not os.access(home, os.R_OK | os.X_OK):
        raise ConfigError(f"config home {home} is not readable (set LIME_CONFIG_HOME or fix its permissions)")
    fix_private_mode(home, 0o700)


_told_modes: set[str] = set()


def fix_private_mode(path: Path, private: int) -> None:
    """A file or directory holding keys must not be open to others: tighten it to ``private`` and say so.

    Said once per process; once fixed there is nothing left to say. If lime cannot change the mode
    (not the owner), it warns instead.
    """
    import stat
    import sys

    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return
    if not mode & 0o077 or str(path) in _told_modes:
        return
    _told_modes.add(str(path))
    try:
        os.chmod(path, private)
        message = f"{path} was open to other users (mode {mode:04o}); lime changed it to {private:04o}"
    except OSError as exc:
        message = f"{path} is open to other users (mode {mode:04o}) and lime cannot change it: {exc.strerror or exc}"
    print(f"lime: warning: {message}", file=sys.stderr)


def credentials_path() -> Path:
    return config_home() / CREDENTIALS_NAME


def settings_path() -> Path:
    return config_home() / SETTINGS_NAME


def compat_memory_path() -> Path:
    return config_home() / COMPAT_MEMORY_NAME


def sessions_dir() -> Path:
    """The global session store. A trusted project's ``.lime/sessions`` is chosen by
    ``lime.runtime.project.sessions_dir``, which falls back to this one."""
    return config_home() / "sessions"


def history_path() -> Path:
    return config_home() / "history"


def local_dir() -> Path:
    return config_home() / "local"


def models_file() -> Path:
    raw = os.environ.get("LIME_MODELS_FILE")
    return Path(raw).expanduser() if raw else config_home() / "models.json"


def _shown(raw: str) -> str:
    """An environment value quoted for an error message, cut short (it may be huge)."""
    return repr(raw if len(raw) <= 40 else raw[:40] + "...")


def _int_env(name: str, default: int | None, *, minimum: int, maximum: int = 1 << 40) -> int | None:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    text = raw.strip()
    if not text.lstrip("+-").isdigit() or len(text) > 20:
        raise ConfigError(f"{name} must be an integer, got {_shown(raw)}")
    value = int(text)
    if not minimum <= value <= maximum:
        raise ConfigError(f"{name} must be between {minimum} and {maximum}, got {_shown(raw)}")
    return value


def max_retries() -> int:
    value = _int_env("LIME_MAX_RETRIES", DEFAULT_MAX_RETRIES, minimum=0, maximum=100)
    assert value is not None
    return value


def auto_compact_tokens_override() -> int | None:
    return _int_env("LIME_CODE_AUTO_COMPACT_INPUT_TOKENS", None, minimum=1)


def auto_compact_pct_override() -> float | None:
    raw = os.environ.get("LIME_AUTOCOMPACT_PCT_OVERRIDE")
    if raw is None or raw.strip() == "":
        return None
    try:
        value = float(raw.strip().rstrip("%"))
    except ValueError:
        raise ConfigError(f"LIME_AUTOCOMPACT_PCT_OVERRIDE must be a percentage, got {raw!r}") from None
    if not 0 < value <= 100:
        raise ConfigError(f"LIME_AUTOCOMPACT_PCT_OVERRIDE must be in (0, 100], got {value:g}")
    return value


MAX_SECONDS = 7 * 24 * 3600.0


def float_env(name: str, default: float, *, zero_means: str | None = None, maximum: float = MAX_SECONDS) -> float:
    """A number of seconds; 0 is accepted only where it means something (``zero_means``, e.g. "never").

    NaN, infinity and anything past ``maximum`` (a week) are refused: a timer that large overflows the
    C types underneath (``socket.settimeout(1e300)``) or silently never fires.
    """
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw.strip())
    except ValueError:
        raise ConfigError(f"{name} must be a number of seconds, got {_shown(raw)}") from None
    if not math.isfinite(value) or value > maximum:
        raise ConfigError(f"{name} must be a finite number of seconds up to {maximum:g}, got {_shown(raw)}")
    if value < 0 or (value == 0 and zero_means is None):
        allowed = f"0 ({zero_means}) or positive" if zero_means else "positive"
        raise ConfigError(f"{name} must be {allowed}, got {_shown(raw)}")
    return value


def connect_timeout() -> float:
    return float_env("LIME_CONNECT_TIMEOUT", 10.0)


def read_timeout() -> float:
    return float_env("LIME_READ_TIMEOUT", 300.0)


def retry_base_delay() -> float:
    """First backoff step in seconds (doubled each retry, with jitter). Tests set it tiny."""
    return float_env("LIME_RETRY_BASE_DELAY", 0.5)


def retry_max_delay() -> float:
    """Longest single wait between retries, Retry-After included; a server asking for more gives up."""
    return float_env("LIME_RETRY_MAX_DELAY", 60.0)


# --- bounds on what a server may send (a hostile or broken one must not exhaust memory) ---

MIB = 1 << 20
DEFAULT_MAX_ANSWER_SIZE = 16 * MIB
DEFAULT_MAX_SSE_LINE = 8 * MIB
DEFAULT_MAX_BODY_SIZE = 64 * MIB
_SIZE_UNITS = {"": 1, "k": 1 << 10, "kb": 1 << 10, "kib": 1 << 10, "m": MIB, "mb": MIB, "mib": MIB,
               "g": 1 << 30, "gb": 1 << 30, "gib": 1 << 30}


def size_env(name: str, default: int, *, minimum: int = 1024) -> int:
    """A size in bytes or characters: ``16777216``, ``16M``, ``16MiB`` or ``1G`` (units are powers of 1024)."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    text = raw.strip().lower().replace(" ", "")
    digits = text.rstrip("kmgib")
    unit = _SIZE_UNITS.get(text[len(digits):])
    if unit is None or not digits.isdigit() or len(digits) > 15:
        raise ConfigError(f"{name} must be a size such as 16777216, 16M or 1G, got {raw!r}")
    value = int(digits) * unit
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {raw!r}")
    return value


def max_answer_size() -> int:
    """``LIME_MAX_ANSWER_SIZE``: characters of one answer (text, reasoning and tool calls) before lime stops it."""
    return size_env("LIME_MAX_ANSWER_SIZE", DEFAULT_MAX_ANSWER_SIZE)


def max_sse_line() -> int:
    """``LIME_MAX_SSE_LINE``: bytes of one event-stream line (or one event's data)."""
    return size_env("LIME_MAX_SSE_LINE", DEFAULT_MAX_SSE_LINE)


def max_body_size() -> int:
    """``LIME_MAX_BODY_SIZE``: bytes of a whole (decompressed) JSON or error body, and of a stream
    between two events."""
    return size_env("LIME_MAX_BODY_SIZE", DEFAULT_MAX_BODY_SIZE)


def env_model() -> str | None:
    value = os.environ.get("LIME_MODEL", "").strip()
    return value or None


@dataclass(frozen=True)
class Settings:
    """The user's ``config.json``: the default model ``lime model default`` sets."""

    default_model: str | None = None


def load_settings() -> Settings:
    from lime.storage import parse_config_json, read_config_text

    path = settings_path()
    raw = read_config_text(path)
    if raw is None:
        return Settings()
    data: Any = parse_config_json(path, raw)
    if not isinstance(data, dict):
        raise ConfigError(f"{path} must hold a JSON object")
    model = data.get("default_model")
    if model is not None and not isinstance(model, str):
        raise ConfigError(f"{path}: field 'default_model' must be a string")
    return Settings(default_model=model or None)


def save_settings(settings: Settings) -> None:
    from lime.storage import atomic_write_json, locked

    ensure_home()
    path = settings_path()
    with locked(path):
        atomic_write_json(path, {"default_model": settings.default_model}, mode=0o600)


# --- the managed local llama.cpp server (lime.local) ---

DEFAULT_LOCAL_CTX = 2048
DEFAULT_LOCAL_IDLE_TIMEOUT = 1800.0


def local_model_env() -> str | None:
    """``LIME_LOCAL_MODEL``: a GGUF file to serve instead of the one the ``local`` extra ships."""
    value = os.environ.get("LIME_LOCAL_MODEL", "").strip()
    return value or None


def local_ctx_env() -> int | None:
    """``LIME_LOCAL_CTX`` when set: the context window the local server allocates."""
    return _int_env("LIME_LOCAL_CTX", None, minimum=256, maximum=1 << 24)


def local_ctx() -> int:
    return local_ctx_env() or DEFAULT_LOCAL_CTX


def local_idle_timeout() -> float:
    """``LIME_LOCAL_IDLE_TIMEOUT`` seconds without requests before the local server exits; 0 = never."""
    return float_env("LIME_LOCAL_IDLE_TIMEOUT", DEFAULT_LOCAL_IDLE_TIMEOUT, zero_means="never")


def local_threads() -> int | None:
    """``LIME_LOCAL_THREADS``: generation threads for the local server (default: half the cores)."""
    return _int_env("LIME_LOCAL_THREADS", None, minimum=1, maximum=1024)


def check_env() -> None:
    """Read every numeric knob once, so a typo fails before anything starts (a server, a request)."""
    for knob in (max_retries, auto_compact_tokens_override, auto_compact_pct_override, connect_timeout,
                 read_timeout, retry_base_delay, retry_max_delay, local_ctx, local_idle_timeout, local_threads,
                 max_answer_size, max_sse_line, max_body_size):
        knob()


# The TOML file read after each JSON settings file of the same scope (``tomllib``; JSON first).
TOML_AFTER = {"settings.json": "config.toml", "settings.local.json": "settings.local.toml"}
