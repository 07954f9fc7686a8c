"""Extra HTTP headers a service needs (gateways, Azure's ``api-key``), kept as secrets.

A header is stored as the user typed it: ``${NAME}`` in a value stays a reference and is read
from the environment when a request is built, so the stored file never holds the expanded
secret. Names and values are checked for what would let a value smuggle a second header or
request (CR, LF, NUL) both when stored and after expansion.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from typing import Any

from lime.errors import ConfigError

_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}$")  # an RFC 9110 token
_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
# Framing and routing headers lime's HTTP client owns; a stored value must never replace them.
_RESERVED = frozenset(("host", "content-length", "transfer-encoding", "connection", "content-type", "te",
                       "upgrade", "expect", "keep-alive", "proxy-authorization", "trailer"))
MAX_VALUE = 8192


class HeaderError(ValueError):
    """A header the user gave cannot be stored or sent; the message says why."""


def check_name(name: str) -> str:
    name = name.strip()
    if not _NAME.match(name):
        raise HeaderError(f"invalid header name {name!r}: use letters, digits and '-' (e.g. X-Api-Key)")
    if name.lower() in _RESERVED:
        raise HeaderError(f"header {name!r} is set by lime's HTTP client and cannot be overridden")
    return name


def _check_value(name: str, value: str) -> str:
    if any(c in value for c in "\r\n\0"):
        raise HeaderError(f"header {name!r}: the value contains a line break or NUL")
    if len(value) > MAX_VALUE:
        raise HeaderError(f"header {name!r}: the value is longer than {MAX_VALUE} characters")
    return value


def parse(spec: str) -> tuple[str, str]:
    """``'Name: value'`` → (name, value). The value may hold ``${ENV_VAR}`` references."""
    name, sep, value = spec.partition(":")
    if not sep:
        raise HeaderError(f"--header wants 'Name: value', got {_shown(spec)!r}")
    name = check_name(name)
    value = value.strip()
    if not value:
        raise HeaderError(f"header {name!r} has an empty value")
    return name, _check_value(name, value)


def _shown(spec: str) -> str:
    """A header spec safe to echo in an error: everything after the name is masked."""
    return spec.split(":", 1)[0][:40] + (": ****" if ":" in spec else "")


def references(value: str) -> list[str]:
    return _ENV_REF.findall(value)


def expand(name: str, value: str, environ: Mapping[str, str] | None = None) -> str:
    """The value with each ``${VAR}`` replaced from the environment; unset variables are an error."""
    env = os.environ if environ is None else environ

    def sub(m: re.Match[str]) -> str:
        var = m.group(1)
        got = env.get(var)
        if got is None or not got.strip():
            raise ConfigError(f"header {name!r} needs ${{{var}}}, which is not set in the environment")
        return got.strip()

    try:
        return _check_value(name, _ENV_REF.sub(sub, value))
    except HeaderError as exc:
        raise ConfigError(f"{exc} (after expanding environment variables)") from None


def mask(value: str) -> str:
    """A value safe to show: ``${VAR}`` references stay readable, every literal part is hidden."""
    parts = _ENV_REF.split(value)
    out = []
    for i, part in enumerate(parts):
        if i % 2:
            out.append("${" + part + "}")
        elif part:
            out.append(part if not part.strip() else "****")
    return "".join(out)


def describe(headers: Iterable[tuple[str, str]], auth_header: str | None) -> str:
    """One line for ``lime login`` / ``lime model show``: names with masked values."""
    shown = [f"{n}: {mask(v)}" for n, v in headers]
    if auth_header:
        shown.append(f"key sent as {auth_header}")
    return "; ".join(shown)


def request_headers(credential: Any, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The headers a request to this credential's service carries: custom ones, then the key.

    The key goes in ``Authorization: Bearer KEY`` unless the service was registered with
    ``--auth-header NAME``, then as ``NAME: KEY``.
    """
    out: dict[str, str] = {}
    for name, value in getattr(credential, "headers", ()) or ():
        out[name] = expand(name, value, environ)
    key = getattr(credential, "api_key", None)
    if key:
        auth = getattr(credential, "auth_header", None) or "Authorization"
        out[auth] = f"Bearer {key}" if auth.lower() == "authorization" else key
    return out


def secret_values(headers: Mapping[str, str]) -> tuple[str, ...]:
    """Every header value worth scrubbing from text a user or log will see."""
    values = []
    for value in headers.values():
        values.append(value)
        if value.startswith("Bearer "):
            values.append(value[len("Bearer "):])
    return tuple(v for v in values if len(v) >= 4)
