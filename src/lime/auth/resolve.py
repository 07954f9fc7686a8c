"""Which key a request to a service uses, and where it came from.

Order: stored bucket, then the preset's env var, then ``OPENAI_API_KEY`` for services that
have no variable of their own. Services that need no key (Ollama, lime's local server) get none.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

from lime.auth import store


class KeyRule(Protocol):
    """What a service's preset says about its key (``lime.catalog.presets.Preset``; passed in, as
    the catalog sits above this package)."""

    @property
    def env_var(self) -> str | None: ...

    @property
    def needs_key(self) -> bool: ...


@dataclass(frozen=True)
class ResolvedCredential:
    api_key: str | None = field(repr=False)
    # Human-readable origin: "bucket openai_compat:groq", "env GROQ_API_KEY", "none needed", "missing".
    source: str
    bucket: str
    base_url: str | None = None
    keyless: bool = False

    @property
    def masked(self) -> str:
        return store.mask_key(self.api_key) if self.api_key else "-"


def _env(name: str) -> str | None:
    value = os.environ.get(name, "").strip()
    return value or None


def resolve_credential(service: str, preset: KeyRule | None) -> ResolvedCredential:
    bucket = store.bucket_name(service)
    stored = store.get(bucket)
    base_url = stored.base_url if stored else None
    if stored is not None and stored.api_key:
        return ResolvedCredential(stored.api_key, f"bucket {bucket}", bucket, base_url)
    if preset is not None and preset.env_var:
        key = _env(preset.env_var)
        if key:
            return ResolvedCredential(key, f"env {preset.env_var}", bucket, base_url)
    elif preset is None or preset.needs_key:
        key = _env("OPENAI_API_KEY")
        if key:
            return ResolvedCredential(key, "env OPENAI_API_KEY (fallback)", bucket, base_url)
    if preset is not None and not preset.needs_key:
        return ResolvedCredential(None, "none needed", bucket, base_url)
    if stored is not None:
        # Registered with --with-base-url only: the user declared a keyless endpoint.
        return ResolvedCredential(None, f"bucket {bucket} (no key)", bucket, base_url, keyless=True)
    return ResolvedCredential(None, "missing", bucket, base_url)


def any_credential_configured(env_vars: Iterable[str]) -> bool:
    """True when the user has stored any key or exported any of the presets' key variables."""
    if store.load_all():
        return True
    return any(_env(name) for name in env_vars)
