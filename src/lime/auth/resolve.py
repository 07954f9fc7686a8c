"""Which key a request to a service uses, and where it came from.

Order: stored bucket, then the preset's env var, then ``OPENAI_API_KEY`` for services that
have no variable of their own. Services that need no key (Ollama, lime's local server) get none.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from lime.auth import store
from lime.catalog.presets import Preset


@dataclass(frozen=True)
class ResolvedCredential:
    api_key: str | None = field(repr=False)
    # Human-readable origin: "bucket openai_compat:groq", "env GROQ_API_KEY", "none needed", "missing".
    source: str
    bucket: str
    base_url: str | None = None

    @property
    def masked(self) -> str:
        return store.mask_key(self.api_key) if self.api_key else "-"


def _env(name: str) -> str | None:
    value = os.environ.get(name, "").strip()
    return value or None


def resolve_credential(service: str, preset: Preset | None) -> ResolvedCredential:
    bucket = store.bucket_name(service)
    stored = store.get(bucket)
    if stored is not None:
        return ResolvedCredential(stored.api_key, f"bucket {bucket}", bucket, stored.base_url)
    if preset is not None and preset.env_var:
        key = _env(preset.env_var)
        if key:
            return ResolvedCredential(key, f"env {preset.env_var}", bucket)
        if not preset.needs_key:
            return ResolvedCredential(None, "none needed", bucket)
        return ResolvedCredential(None, "missing", bucket)
    if preset is not None and not preset.needs_key:
        return ResolvedCredential(None, "none needed", bucket)
    key = _env("OPENAI_API_KEY")
    if key:
        return ResolvedCredential(key, "env OPENAI_API_KEY (fallback)", bucket)
    return ResolvedCredential(None, "missing", bucket)


def any_credential_configured() -> bool:
    """True when the user has stored any key or exported any preset's key variable."""
    from lime.catalog.presets import PRESETS

    if store.load_all():
        return True
    return any(p.env_var and _env(p.env_var) for p in PRESETS.values())
