"""The credentials file: mode 0600, atomic replace, locked against concurrent ``lime`` processes."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lime import config
from lime.auth.masking import mask_key
from lime.errors import ConfigError

BUCKET_PREFIX = "openai_compat:"


def bucket_name(service: str) -> str:
    return BUCKET_PREFIX + service


_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")


def key_problem(key: str) -> str | None:
    """Why ``key`` cannot be an API key (it travels in an HTTP header), or None when it can."""
    if not key:
        return "it is empty"
    if any(c.isspace() for c in key):
        return "it contains whitespace"
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in key):
        return "it contains control characters"
    if not key.isascii():
        return "it contains non-ASCII characters"
    return None


def check_env_name(name: str) -> str:
    if not _ENV_NAME.fullmatch(name):
        raise ConfigError(f"{name!r} is not an environment variable name (letters, digits and _)")
    return name


@dataclass(frozen=True)
class StoredCredential:
    """A bucket: a stored key, or the name of the variable that holds it (``key_env``), or neither
    (a keyless endpoint); ``base_url`` is the only address the key is ever sent to."""

    bucket: str
    api_key: str = field(repr=False)
    base_url: str | None = None
    key_env: str | None = None
    # Extra request headers as typed (``${VAR}`` unexpanded) and the header the key travels in.
    headers: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    auth_header: str | None = None

    @property
    def masked(self) -> str:
        return mask_key(self.api_key)


def _path() -> Path:
    return config.credentials_path()


def _read_raw(path: Path) -> dict[str, Any]:
    from lime import jsonguard
    from lime.storage import read_config_text

    text = read_config_text(path)
    if text is None or not text.strip():
        return {"buckets": {}}
    try:
        data = jsonguard.loads(text)
    except json.JSONDecodeError as exc:
        # Never echo the file's content: it holds keys.
        raise ConfigError(f"{path} is corrupt (invalid JSON at line {exc.lineno}); lime will not overwrite it") from None
    except ValueError as exc:
        raise ConfigError(f"{path} is corrupt ({exc}); lime will not overwrite it") from None
    if not isinstance(data, dict) or not isinstance(data.get("buckets", {}), dict):
        raise ConfigError(f"{path} is corrupt (expected an object with 'buckets'); lime will not overwrite it")
    data.setdefault("buckets", {})
    return data


_cache: dict[tuple[str, int, int], dict[str, StoredCredential]] = {}


def load_all() -> dict[str, StoredCredential]:
    """All buckets; re-read only when the file changed (routing a whole catalog asks many times)."""
    config.check_home_readable()
    path = _path()
    try:
        st = path.stat()
        key = (str(path), st.st_mtime_ns, st.st_size)
    except OSError:
        key = None
    if key is not None and st.st_mode & 0o077:
        config.fix_private_mode(path, 0o600)
    if key is not None and key in _cache:
        return dict(_cache[key])
    data = _read_raw(path)
    out: dict[str, StoredCredential] = {}
    for name, raw in data["buckets"].items():
        if not isinstance(raw, dict):
            continue
        api_key, base, env = raw.get("api_key", ""), raw.get("base_url"), raw.get("key_env")
        if not isinstance(api_key, str) or (not api_key and not isinstance(env, str) and not isinstance(base, str)):
            continue
        out[str(name)] = StoredCredential(str(name), api_key, base if isinstance(base, str) else None,
                                          env if isinstance(env, str) and env else None, *_stored_headers(raw))
    if key is not None:
        _cache.clear()
        _cache[key] = dict(out)
    return out


def _stored_headers(raw: dict[str, Any]) -> tuple[tuple[tuple[str, str], ...], str | None]:
    """The bucket's headers, skipping any entry a hand edit made unsendable."""
    from lime.auth.headers import HeaderError, check_name, parse

    headers: list[tuple[str, str]] = []
    stored = raw.get("headers")
    if isinstance(stored, dict):
        for name, value in stored.items():
            if isinstance(name, str) and isinstance(value, str):
                try:
                    headers.append(parse(f"{name}: {value}"))
                except HeaderError:
                    continue
    auth = raw.get("auth_header")
    try:
        auth_header = check_name(auth) if isinstance(auth, str) else None
    except HeaderError:
        auth_header = None
    return tuple(headers), auth_header


def get(bucket: str) -> StoredCredential | None:
    return load_all().get(bucket)


def put(bucket: str, api_key: str, base_url: str | None, *, key_env: str | None = None,
        extra: dict[str, Any] | None = None, headers: tuple[tuple[str, str], ...] = (),
        auth_header: str | None = None) -> None:
    """Replace ``bucket``; ``extra`` holds further fields of the entry (kept as given)."""
    from lime.storage import atomic_write_json, locked

    config.ensure_home()
    path = _path()
    with locked(path):
        data = _read_raw(path)
        entry: dict[str, Any] = {"api_key": api_key}
        if base_url:
            entry["base_url"] = base_url
        if key_env:
            entry["key_env"] = key_env
        if headers:
            entry["headers"] = dict(headers)
        if auth_header:
            entry["auth_header"] = auth_header
        entry.update(extra or {})
        data["buckets"][bucket] = entry
        atomic_write_json(path, data, mode=0o600)


def remove(bucket: str) -> bool:
    from lime.storage import atomic_write_json, locked

    path = _path()
    if not path.exists():
        return False
    with locked(path):
        data = _read_raw(path)
        if bucket not in data["buckets"]:
            return False
        del data["buckets"][bucket]
        atomic_write_json(path, data, mode=0o600)
    return True
