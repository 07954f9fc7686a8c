"""Slug → (wire model id, base URL, credential, capabilities): the one place routing happens."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from lime import config
from lime.auth.hints import login_hint
from lime.auth.resolve import ResolvedCredential, any_credential_configured, resolve_credential
from lime.catalog.builtin import ALIASES, LOCAL_SLUG, wire_id_entry
from lime.catalog.entries import ModelEntry
from lime.catalog.presets import PRESETS, Preset, get_preset
from lime.catalog.store import Catalog, load_catalog
from lime.errors import ConfigError


@dataclass(frozen=True)
class Capabilities:
    """What may be sent to this model on this service. A False field never goes on the wire."""

    reasoning_effort: bool = False
    include_usage: bool = False
    tools: bool = False
    parallel_tool_calls: bool = False
    verbosity: bool = False
    response_format: bool = False
    vision: bool = False
    max_tokens_field: str = "max_tokens"
    reasoning_levels: tuple[str, ...] = ("low", "medium", "high")

    def flags(self) -> list[str]:
        names = ("reasoning_effort", "include_usage", "tools", "parallel_tool_calls", "verbosity",
                 "response_format", "vision")
        return [n for n in names if getattr(self, n)]


def capabilities_for(entry: ModelEntry, preset: Preset | None) -> Capabilities:
    trusted_preset = preset is not None and not preset.local
    if entry.supports_reasoning_effort is not None:
        reasoning = entry.supports_reasoning_effort
    elif trusted_preset:
        assert preset is not None
        reasoning = preset.supports_reasoning_effort and entry.allows_reasoning
    else:
        reasoning = entry.allows_reasoning
    if entry.supports_tools is not None:
        tools = entry.supports_tools
    else:
        tools = entry.supports_parallel_tool_calls or (trusted_preset and preset is not None and preset.supports_tools)
    if entry.supports_include_usage is not None:
        usage = entry.supports_include_usage
    else:
        usage = bool(trusted_preset and preset is not None and preset.supports_include_usage)
    verbosity = entry.allows_verbosity and (preset is None or preset.supports_verbosity)
    return Capabilities(
        reasoning_effort=reasoning,
        include_usage=usage,
        tools=tools,
        parallel_tool_calls=tools and entry.supports_parallel_tool_calls,
        verbosity=verbosity,
        response_format=(entry.supports_response_format if entry.supports_response_format is not None
                         else bool(preset and preset.supports_response_format)),
        vision=entry.supports_vision,
        max_tokens_field=preset.max_tokens_field if preset else "max_tokens",
        reasoning_levels=preset.reasoning_levels if preset else ("low", "medium", "high"),
    )


@dataclass(frozen=True)
class Route:
    """Where a model's requests go: its entry, the service, the address, the key and what may be sent."""

    entry: ModelEntry
    service: str
    preset: Preset | None
    # None for lime's managed local server until it is started (lime.local fills it in).
    base_url: str | None
    credential: ResolvedCredential = field(repr=False)
    capabilities: Capabilities

    @property
    def slug(self) -> str:
        return self.entry.slug

    @property
    def wire_model(self) -> str:
        return self.entry.wire_id

    @property
    def api_key(self) -> str | None:
        return self.credential.api_key

    @property
    def extra_body(self) -> dict[str, Any] | None:
        return self.entry.extra_body

    def request_headers(self) -> dict[str, str]:
        """The key (as ``Authorization: Bearer`` or the service's own header) and custom headers,
        with ``${VAR}`` references read from the environment now."""
        from lime.auth.headers import request_headers

        return request_headers(self.credential)

    @property
    def managed_local(self) -> bool:
        return self.preset is not None and self.preset.discover

    def with_endpoint(self, base_url: str, api_key: str | None, capabilities: Capabilities | None = None,
                      entry: ModelEntry | None = None) -> Route:
        cred = replace(self.credential, api_key=api_key) if api_key else self.credential
        return replace(self, base_url=base_url, credential=cred,
                       capabilities=capabilities or self.capabilities, entry=entry or self.entry)

    def login_hint(self) -> str:
        """The ``lime login`` that stores a new key for this route. A login replaces the service's
        stored URL too, so for an endpoint of the user's own (a proxy in front of a preset's API, a
        service that is no preset) it repeats that URL: without it the key would go to the
        service's public address, or the login would be refused."""
        own = self.base_url if self.base_url and not self.managed_local and (
            self.preset is None or self.base_url.rstrip("/") != self.preset.base_url.rstrip("/")) else None
        return login_hint(self.service, base_url=own or False)

    def require_key(self) -> None:
        if self.credential.api_key or self.credential.keyless or (self.preset is not None and not self.preset.needs_key):
            return
        hint = self.login_hint()
        if self.credential.problem:
            raise ConfigError(f"no API key for service {self.service!r} (model {self.slug}): "
                              f"{self.credential.problem}; run: {hint}")
        var = self.preset.env_var if self.preset and self.preset.env_var else None
        if var and self.preset is not None and self.preset.env_fallback:
            var += f" (or {self.preset.env_fallback})"
        unset = f" and {var} is not set" if var else ""
        raise ConfigError(
            f"no API key for service {self.service!r} (model {self.slug}): bucket {self.credential.bucket} is "
            f"empty{unset}; run: {hint} (or --key-env VAR)"
        )


def service_of(entry: ModelEntry) -> str:
    if entry.provider in ("openai", "anthropic", "gemini"):
        return entry.provider
    if entry.provider == "openai-compat" and entry.service:
        return entry.service
    raise ConfigError(
        f"model {entry.slug!r} uses provider {entry.provider!r}, which lime talks to only through an "
        "OpenAI-compatible endpoint; re-add it with --provider openai-compat --service NAME"
    )


def suggest(slug: str, catalog: Catalog) -> str:
    import difflib  # only on a typo

    names = [*catalog.entries, *catalog.user.aliases]
    close = difflib.get_close_matches(slug, names, n=3, cutoff=0.5)
    if not close:
        close = [n for n in names if slug.lower() in n.lower()][:3]
    return f"did you mean: {', '.join(close)}?" if close else "run 'lime model list' to see the catalog"


def find_entry(slug: str, catalog: Catalog) -> ModelEntry | None:
    """The entry a name means: a slug, a user alias, a built-in alias (``sonnet``), or a full Gemini model id."""
    return (catalog.get(slug) or catalog.get(catalog.user.aliases.get(slug, "")) or catalog.get(ALIASES.get(slug, ""))
            or wire_id_entry(slug))


def resolve_route(slug: str, catalog: Catalog | None = None) -> Route:
    catalog = catalog or load_catalog()
    entry = find_entry(slug, catalog)
    if entry is None:
        raise ConfigError(f"unknown model {slug!r}", hint=suggest(slug, catalog))
    service = service_of(entry)
    preset = get_preset(service)
    cred = resolve_credential(service, preset)
    base_url = cred.base_url
    if base_url is None and (preset is None or not preset.discover):
        raise ConfigError(
            f"service {service!r} (model {slug}) has no base URL; run: {login_hint(service, base_url=True)}"
        )
    return Route(entry=entry, service=service, preset=preset, base_url=base_url, credential=cred,
                 capabilities=capabilities_for(entry, preset))


@dataclass(frozen=True)
class ModelChoice:
    """The model a run starts with and why that one (``lime status`` shows both)."""

    slug: str
    reason: str  # "--model", "LIME_MODEL", "config default", "offline default", "built-in default"


def select_model(flag: str | None, *, offline: Callable[[], bool] | None,
                 configured: tuple[str, str] | None = None) -> ModelChoice:
    """--model, then LIME_MODEL, then the settings' ``model`` (``configured``: slug and the file it
    came from), then the configured default, then local-if-nothing-else, then gpt-5.4.

    ``offline`` says whether lime's local model can run here (``lime.local`` knows; the catalog
    does not import it). None: no offline default."""
    if flag:
        return ModelChoice(flag, "--model")
    env = config.env_model()
    if env:
        return ModelChoice(env, "LIME_MODEL")
    if configured is not None:
        return ModelChoice(configured[0], f"model in {configured[1]}")
    settings = config.load_settings()
    if settings.default_model:
        return ModelChoice(settings.default_model, "config default")
    if offline is not None and not any_credential_configured(
            p.env_var for p in PRESETS.values() if p.env_var) and offline():
        return ModelChoice(LOCAL_SLUG, "offline default")
    return ModelChoice(config.DEFAULT_MODEL, "built-in default")
