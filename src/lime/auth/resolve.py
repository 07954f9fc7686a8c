"""Which key a request to a service uses, where it came from, and the one address it may go to.

A key is bound to the base URL it was stored or configured for and is never sent anywhere else:

1. a stored key (bucket ``openai_compat:NAME``), to the bucket's base URL (or the preset's);
2. ``key_env`` (``lime login ... --key-env VAR``): the variable's value, read at request time,
   to the bucket's base URL (or the preset's);
3. a bucket with neither is a keyless endpoint: no key at all;
4. the preset's own variable (``GROQ_API_KEY``...), to the preset's base URL only
   (``OPENAI_API_KEY`` also to ``OPENAI_BASE_URL``, the pair OpenAI's own tools honour).

``OPENAI_API_KEY`` never goes to another service unless that service names it with ``--key-env``.
Services that need no key (Ollama, lime's local server) get none.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import urlsplit

from lime.auth import store
from lime.auth.masking import mask_key
from lime.errors import ConfigError


class Preset(Protocol):
    """What key resolution reads from a service's preset (``lime.catalog.presets.Preset``, passed
    in by the catalog, which sits above this package)."""

    @property
    def id(self) -> str: ...

    @property
    def base_url(self) -> str: ...

    @property
    def env_var(self) -> str | None: ...

    @property
    def needs_key(self) -> bool: ...

    @property
    def discover(self) -> bool: ...


@dataclass(frozen=True)
class ResolvedCredential:
    """The key a service's requests carry (if any), where it came from, and the one address it may go to."""

    api_key: str | None = field(repr=False)
    # Human-readable origin: "bucket openai_compat:groq", "env GROQ_API_KEY", "none needed", "missing".
    source: str
    bucket: str
    # The endpoint this service is reached at (None: lime's local server, not started yet).
    base_url: str | None = None
    keyless: bool = False
    # Why no key goes with the request although one was meant to (shown by require_key and status).
    problem: str | None = None
    # Extra headers (``${VAR}`` unexpanded) and the header the key travels in (None: Authorization).
    headers: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    auth_header: str | None = None

    @property
    def masked(self) -> str:
        return mask_key(self.api_key) if self.api_key else "-"


def _env(name: str) -> str | None:
    value = os.environ.get(name, "").strip()
    return value or None


def userinfo_problem(url: str) -> str | None:
    """Why a base URL with ``user:password@`` is refused: it would be shown everywhere the URL is, and
    the HTTP client would send it as Basic auth instead of the key."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "it is not a valid URL"
    if "@" in parts.netloc:
        return "it holds a user name or password (user:password@); give the key with --with-api-key instead"
    return None


def plain_http_warning(url: str | None, has_key: bool) -> str | None:
    """A warning when requests (with a key) would cross the network unencrypted."""
    from lime.urls import is_loopback_host

    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme != "http" or is_loopback_host(parts.hostname):
        return None
    what = "your API key and conversation cross" if has_key else "your conversation crosses"
    return f"{url} is plain http:// to another machine: {what} the network unencrypted"


_warned: set[str] = set()


def plain_http_warning_once(url: str | None, has_key: bool) -> str | None:
    """``plain_http_warning``, once per endpoint per process (a run may build several clients)."""
    warning = plain_http_warning(url, has_key)
    if warning is None or (url or "") in _warned:
        return None
    _warned.add(url or "")
    return warning


def _same_url(a: str, b: str) -> bool:
    return a.strip().rstrip("/") == b.strip().rstrip("/")


def _base_url(service: str, preset: Preset | None, stored: store.StoredCredential | None) -> tuple[str | None, str]:
    """The service's endpoint and where it was configured."""
    env = _env("OPENAI_BASE_URL") if service == "openai" else None
    if env:
        url, where = env, "OPENAI_BASE_URL"
    elif stored is not None and stored.base_url:
        url, where = stored.base_url, f"bucket {stored.bucket}"
    elif preset is not None and not preset.discover:
        url, where = preset.base_url, f"preset {preset.id}"
    else:
        return None, "none"
    problem = userinfo_problem(url)
    if problem:
        raise ConfigError(f"the base URL in {where} cannot be used: {problem}")
    return url.rstrip("/"), where


def _checked(key: str, source: str, bucket: str, url: str | None) -> ResolvedCredential:
    bad = store.key_problem(key)
    if bad:
        return ResolvedCredential(None, f"{source} (unusable)", bucket, url,
                                  problem=f"the key from {source} cannot be sent: {bad}")
    return ResolvedCredential(key, source, bucket, url)


def resolve_credential(service: str, preset: Preset | None) -> ResolvedCredential:
    import dataclasses

    cred = _resolve(service, preset)
    stored = store.get(cred.bucket)
    if stored is not None and (stored.headers or stored.auth_header):
        cred = dataclasses.replace(cred, headers=stored.headers, auth_header=stored.auth_header)
    return cred


def _resolve(service: str, preset: Preset | None) -> ResolvedCredential:
    bucket = store.bucket_name(service)
    stored = store.get(bucket)
    url, url_from = _base_url(service, preset, stored)
    problem: str | None = None
    if stored is not None and (stored.api_key or stored.key_env):
        home = stored.base_url or (preset.base_url if preset else None)
        if stored.key_env:
            source = f"env {stored.key_env} (named by bucket {bucket})"
            value = _env(stored.key_env)
        else:
            source, value = f"bucket {bucket}", stored.api_key
        if url is not None and home is not None and _same_url(home, url):
            if value:
                return _checked(value, source, bucket, url)
            return ResolvedCredential(None, f"{source}: not set", bucket, url,
                                      problem=f"{stored.key_env} is not set (bucket {bucket} reads the key from it)")
        problem = (f"the key of {bucket} belongs to {home}; lime does not send it to {url} ({url_from})")
    elif stored is not None:
        # Registered with --with-base-url only: the user declared a keyless endpoint.
        return ResolvedCredential(None, f"bucket {bucket} (no key)", bucket, url, keyless=True)
    bound_here = url is not None and preset is not None and (
        _same_url(url, preset.base_url) or url_from == "OPENAI_BASE_URL")
    key = _env(preset.env_var) if bound_here and preset is not None and preset.env_var else None
    if key and preset is not None:
        return _checked(key, f"env {preset.env_var}", bucket, url)
    fallback = getattr(preset, "env_fallback", None) if bound_here else None
    if fallback and _env(fallback):
        return _checked(_env(fallback) or "", f"env {fallback}", bucket, url)
    if preset is not None and not preset.needs_key:
        return ResolvedCredential(None, "none needed", bucket, url)
    return ResolvedCredential(None, "missing", bucket, url, problem=problem)


def known_keys() -> list[str]:
    """Every key lime could send: masked wherever lime prints or stores text (tools, errors, sessions)."""
    keys: set[str] = set()
    try:
        buckets = store.load_all()
    except ConfigError:
        buckets = {}
    from lime.auth.headers import references

    for cred in buckets.values():
        keys.add(cred.api_key)
        if cred.key_env:
            keys.add(_env(cred.key_env) or "")
        for _name, value in cred.headers:
            refs = references(value)
            keys.update(_env(var) or "" for var in refs)
            if not refs:
                keys.add(value.strip())
    keys |= {v.strip() for k, v in os.environ.items() if k.endswith("_API_KEY")}
    return sorted(k for k in keys if len(k) >= 8)


def any_credential_configured(env_vars: Iterable[str]) -> bool:
    """True when the user has stored any key or exported any of the presets' key variables."""
    if store.load_all():
        return True
    return any(_env(name) for name in env_vars)
