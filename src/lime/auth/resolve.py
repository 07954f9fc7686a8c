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
    keyless: bool = False
    headers: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    auth_header: str | None = None

    @property
    def masked(self) -> str:
        return store.mask_key(self.api_key) if self.api_key else "-"


def _env(name: str) -> str | None:
    value = os.environ.get(name, "").strip()
    return value or None


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


def any_credential_configured() -> bool:
    """True when the user has stored any key or exported any preset's key variable."""
    from lime.catalog.presets import PRESETS

    if store.load_all():
        return True
    return any(p.env_var and _env(p.env_var) for p in PRESETS.values())
