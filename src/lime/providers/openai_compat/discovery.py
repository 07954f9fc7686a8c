"""Ask a local server what it can do instead of trusting a hard-coded entry.

llama.cpp's server publishes ``GET /props`` (the chat template's capabilities and the slot's
context size) and ``GET /v1/models`` (``meta.n_ctx``, ``meta.n_ctx_train``); vLLM puts
``max_model_len`` on each model of ``/v1/models``. What a server reports about itself beats a
guess: a window that is too large ends in overflow errors, flags that are too generous send
fields the template silently drops.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from lime.catalog.entries import ModelEntry
from lime.catalog.presets import Preset
from lime.catalog.routing import Capabilities, capabilities_for
from lime.urls import endpoint_url, is_loopback_host


@dataclass(frozen=True)
class Discovery:
    """What one server said about itself. ``None`` means "not reported", never "no"."""

    server: str  # "llama.cpp", "vllm" or "openai-compatible"
    model_ids: tuple[str, ...] = ()
    n_ctx: int | None = None  # the window one request may use (llama.cpp: per slot)
    n_ctx_train: int | None = None
    supports_tools: bool | None = None
    supports_tool_calls: bool | None = None
    supports_parallel_tool_calls: bool | None = None
    supports_reasoning_effort: bool | None = None
    supports_system_role: bool | None = None
    supports_include_usage: bool | None = None
    vision: bool | None = None
    model_path: str | None = None

    @property
    def tools(self) -> bool | None:
        """Tool calls work only when the template both takes ``tools`` and renders the model's calls back."""
        if self.supports_tools is None and self.supports_tool_calls is None:
            return None
        return bool(self.supports_tools) and bool(self.supports_tool_calls)

    def entry_for(self, entry: ModelEntry) -> ModelEntry:
        """``entry`` with the server's real window and capability flags.

        Window-derived limits (max_output, upper_max_output, auto_compact) are reset so the
        catalog's documented defaults are recomputed from the real window.
        """
        changes: dict[str, Any] = dict(self.entry_flags())
        if self.n_ctx is not None and self.n_ctx > 0 and self.n_ctx != entry.context_window:
            changes.update(context_window=self.n_ctx, max_output=0, upper_max_output=0, auto_compact=0)
        return dataclasses.replace(entry, **changes) if changes else entry

    def entry_flags(self) -> dict[str, bool]:
        """The ModelEntry capability fields the server reported (absent keys: it said nothing)."""
        flags: dict[str, bool] = {}
        tools = self.tools
        if tools is not None:
            flags["supports_tools"] = tools
            flags["supports_parallel_tool_calls"] = tools and bool(self.supports_parallel_tool_calls)
        if self.supports_include_usage is not None:
            flags["supports_include_usage"] = self.supports_include_usage
        if self.supports_reasoning_effort is not None:
            flags["supports_reasoning_effort"] = self.supports_reasoning_effort
        if self.vision is not None:
            flags["supports_vision"] = self.vision
        return flags

    def apply(self, entry: ModelEntry, preset: Preset | None) -> tuple[ModelEntry, Capabilities]:
        """The entry as the server describes it, and what may be sent to it."""
        updated = self.entry_for(entry)
        return updated, capabilities_for(updated, preset)

    def to_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["model_ids"] = list(self.model_ids)
        return data

    @classmethod
    def from_json(cls, data: Any) -> Discovery | None:
        """Rebuild a cached discovery; anything malformed is treated as absent (it is only a cache)."""
        if not isinstance(data, dict) or not isinstance(data.get("server"), str):
            return None
        kwargs: dict[str, Any] = {"server": data["server"]}
        ids = data.get("model_ids")
        if isinstance(ids, list):
            kwargs["model_ids"] = tuple(str(i) for i in ids if isinstance(i, str))
        for name in ("n_ctx", "n_ctx_train"):
            kwargs[name] = _pos_int(data.get(name))
        for f in dataclasses.fields(cls):
            if f.name.startswith("supports_") or f.name == "vision":
                value = data.get(f.name)
                kwargs[f.name] = value if isinstance(value, bool) else None
        path = data.get("model_path")
        kwargs["model_path"] = path if isinstance(path, str) else None
        return cls(**kwargs)


def _pos_int(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        return None
    return value


def _opt_bool(mapping: Any, key: str) -> bool | None:
    if not isinstance(mapping, dict):
        return None
    value = mapping.get(key)
    return value if isinstance(value, bool) else None


def server_root(base_url: str) -> str:
    """``http://h:p/v1`` → ``http://h:p``: llama.cpp serves ``/props`` beside, not under, ``/v1``."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(base_url)
    path = parts.path.rstrip("/")
    if path.endswith("/v1"):
        path = path[: -len("/v1")]
    return urlunsplit(parts._replace(path=path))


def parse(props: Any, models: Any, *, model: str | None = None) -> Discovery | None:
    """Build a Discovery from the two JSON bodies (either may be None). None when neither says anything."""
    server = "openai-compatible"
    n_ctx: int | None = None
    n_ctx_train: int | None = None
    caps: Any = None
    vision: bool | None = None
    model_path: str | None = None
    ids: list[str] = []
    usage: bool | None = None

    if isinstance(props, dict) and ("default_generation_settings" in props or "chat_template" in props):
        server = "llama.cpp"
        # Every llama.cpp server that has /props ignores fields it does not know, and current ones
        # answer stream_options.include_usage; asking costs nothing on the older ones.
        usage = True
        settings = props.get("default_generation_settings")
        if isinstance(settings, dict):
            n_ctx = _pos_int(settings.get("n_ctx"))
        caps = props.get("chat_template_caps")
        vision = _opt_bool(props.get("modalities"), "vision")
        path = props.get("model_path")
        model_path = path if isinstance(path, str) else None

    chosen: dict[str, Any] | None = None
    data = models.get("data") if isinstance(models, dict) else None
    if isinstance(data, list):
        items = [m for m in data if isinstance(m, dict)]
        ids = [m["id"] for m in items if isinstance(m.get("id"), str)]
        if model is not None:
            chosen = next((m for m in items if m.get("id") == model or model in (m.get("aliases") or [])), None)
        if chosen is None and items:
            chosen = items[0]
    if chosen is not None:
        meta = chosen.get("meta")
        if isinstance(meta, dict):
            if server == "openai-compatible" and chosen.get("owned_by") == "llamacpp":
                server, usage = "llama.cpp", True
            n_ctx = n_ctx or _pos_int(meta.get("n_ctx"))
            n_ctx_train = _pos_int(meta.get("n_ctx_train"))
        max_len = _pos_int(chosen.get("max_model_len"))
        if max_len is not None:
            if server == "openai-compatible":
                server = "vllm"
            n_ctx = n_ctx or max_len

    if server == "openai-compatible" and not ids:
        return None
    return Discovery(
        server=server,
        model_ids=tuple(ids),
        n_ctx=n_ctx,
        n_ctx_train=n_ctx_train,
        supports_tools=_opt_bool(caps, "supports_tools"),
        supports_tool_calls=_opt_bool(caps, "supports_tool_calls"),
        supports_parallel_tool_calls=_opt_bool(caps, "supports_parallel_tool_calls"),
        supports_reasoning_effort=_opt_bool(caps, "supports_reasoning_effort"),
        supports_system_role=_opt_bool(caps, "supports_system_role"),
        supports_include_usage=usage,
        vision=vision,
        model_path=model_path,
    )


def discover(base_url: str, api_key: str | None, timeout: float = 5.0, *,
             model: str | None = None) -> Discovery | None:
    """Query ``{root}/props`` and ``{base_url}/models``; None when the server tells us nothing usable.

    Never raises for a server that is down, slow or speaks another dialect: discovery is a bonus,
    and the caller keeps its catalog entry when it fails.
    """
    from lime.providers.openai_compat.httplib import httpx

    headers = {"Accept": "application/json"}
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    try:
        host = httpx.URL(base_url).host
    except (httpx.InvalidURL, TypeError, ValueError):
        return None
    # A proxy from the environment must not see requests meant for this machine.
    trust_env = not is_loopback_host(host)

    def get_json(client: httpx.Client, url: str) -> Any:
        try:
            resp = client.get(url)
        except httpx.HTTPError:
            return None
        if resp.status_code != 200:
            return None
        try:
            return resp.json()
        except ValueError:
            return None

    try:
        with httpx.Client(headers=headers, timeout=timeout, trust_env=trust_env) as client:
            props = get_json(client, endpoint_url(server_root(base_url), "props"))
            models = get_json(client, endpoint_url(base_url, "models"))
    except (httpx.HTTPError, ValueError):
        return None
    return parse(props, models, model=model)
