"""Ask a server what it can do instead of trusting a hard-coded entry.

llama.cpp's server publishes ``GET /props`` (the chat template's capabilities and the slot's
context size) and ``GET /v1/models`` (``meta.n_ctx``, ``meta.n_ctx_train``); vLLM puts
``max_model_len`` on each model of ``/v1/models``; Ollama answers ``POST /api/show``
(``capabilities``, ``parameters`` with ``num_ctx``, ``model_info.<arch>.context_length``); LM Studio
``GET /api/v0/models`` (``loaded_context_length``, ``max_context_length``, ``capabilities``, ``type``);
a LiteLLM proxy ``GET /model/info`` (``max_input_tokens``, ``supports_function_calling``, prices...);
OpenRouter ``GET /models`` (``context_length``, ``supported_parameters``, ``pricing`` per token).
What a server reports about itself beats a guess: a window that is too large ends in overflow
errors (or, on Ollama, in silent truncation), flags that are too generous send fields the
template silently drops, and reasoning effort goes only where the server advertised it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from lime import jsonguard
from lime.catalog.entries import ModelEntry
from lime.catalog.presets import Preset
from lime.catalog.routing import Capabilities, capabilities_for
from lime.errors import LimeError
from lime.urls import endpoint_url, is_loopback_host

MAX_REPLY = 8 * 2**20  # a model list or model description is kilobytes; a hostile server may send gigabytes
MAX_WINDOW = 10**9  # a reported window beyond this is nonsense, not a capability
OLLAMA_DEFAULT_CTX = 4096  # Ollama's num_ctx when neither the model nor OLLAMA_CONTEXT_LENGTH sets one


@dataclass(frozen=True)
class Discovery:
    """What one server said about itself. ``None`` means "not reported", never "no"."""

    server: str  # "llama.cpp", "vllm", "ollama", "lmstudio", "litellm", "openrouter" or "openai-compatible"
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
    supports_response_format: bool | None = None
    max_output: int | None = None  # the largest answer the server says the model gives
    window_note: str = ""  # where the window came from, when that is worth telling the user
    chat: bool = True  # False for embedding-only models, which import skips
    # USD per million tokens, where the server publishes prices: ModelEntry's price fields
    # (input_price and output_price always; cached_input_price, cache_write_price... where said).
    prices: dict[str, float] | None = None

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
        if self.supports_response_format is not None:
            flags["supports_response_format"] = self.supports_response_format
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
        for name in ("n_ctx", "n_ctx_train", "max_output"):
            kwargs[name] = _pos_int(data.get(name))
        for f in dataclasses.fields(cls):
            if f.name.startswith("supports_") or f.name == "vision":
                value = data.get(f.name)
                kwargs[f.name] = value if isinstance(value, bool) else None
        path = data.get("model_path")
        kwargs["model_path"] = path if isinstance(path, str) else None
        return cls(**kwargs)


def _pos_int(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0 or value > MAX_WINDOW:
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
        # Both take an OpenAI json_schema response_format (llama.cpp turns it into a grammar).
        supports_response_format=True if server in ("llama.cpp", "vllm") else None,
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
            return jsonguard.loads(resp.content)
        except ValueError:
            return None

    try:
        with httpx.Client(headers=headers, timeout=timeout, trust_env=trust_env) as client:
            props = get_json(client, endpoint_url(server_root(base_url), "props"))
            models = get_json(client, endpoint_url(base_url, "models"))
    except (httpx.HTTPError, ValueError):
        return None
    return parse(props, models, model=model)


# ----------------------------------------------------------------------------------------------
# Surveying any server: every model it lists and what it says about each one



class DiscoveryError(LimeError):
    """A server could not be surveyed; the message says what it answered."""


@dataclass(frozen=True)
class Survey:
    """One server's model list and, per model, what it said about it."""

    server: str
    base_url: str
    ids: tuple[str, ...]
    found: dict[str, Discovery]
    left_over: tuple[str, ...] = ()  # listed, but past ``limit``: not described
    out_of_time: tuple[str, ...] = ()  # wanted, but the deadline came before they were described

    def close_matches(self, model: str) -> list[str]:
        import difflib

        close = difflib.get_close_matches(model, self.ids, n=3, cutoff=0.5)
        return close or [i for i in self.ids if model.lower() in i.lower()][:3]


class _Fetcher:
    """GETs and POSTs against one server; every failure becomes a sentence naming what it answered."""

    def __init__(self, base_url: str, headers: dict[str, str], timeout: float, secrets: tuple[str, ...],
                 deadline: float | None = None) -> None:
        import time

        import httpx

        self.base_url = base_url
        self.secrets = secrets
        self.total = deadline
        self.ends = None if deadline is None else time.monotonic() + deadline
        try:
            host = httpx.URL(base_url).host
        except (httpx.InvalidURL, TypeError, ValueError):
            raise DiscoveryError(f"{base_url!r} is not a URL lime can reach") from None
        # A proxy from the environment must not see requests meant for this machine.
        self.client = httpx.Client(headers={"Accept": "application/json", **headers}, timeout=timeout,
                                   trust_env=not is_loopback_host(host), follow_redirects=False)

    def close(self) -> None:
        self.client.close()

    def _say(self, text: str) -> str:
        from lime.providers.openai_compat.errors import scrub

        return scrub(text, self.secrets)

    def left(self) -> float | None:
        """Seconds until the deadline (None: no deadline)."""
        import time

        return None if self.ends is None else self.ends - time.monotonic()

    def _late(self, url: str) -> DiscoveryError:
        return DiscoveryError(f"{url} did not finish answering within the {self.total:g}s deadline",
                              hint="raise it with --deadline SECONDS")

    def fetch(self, method: str, url: str, body: Any = None, *, required: bool) -> Any:
        """The JSON a 200 carries; None for any other answer when not required, else DiscoveryError.
        Past the deadline every fetch fails (a slow server cannot hold the survey open)."""
        import httpx

        from lime.providers.openai_compat import quirks
        from lime.providers.openai_compat.errors import parse_error_body

        left = self.left()
        if left is not None and left <= 0:
            raise self._late(url)
        timeout: Any = self.client.timeout if left is None else httpx.Timeout(min(left, self.client.timeout.read or left))
        try:
            with self.client.stream(method, url, json=body, timeout=timeout) as resp:
                chunks: list[bytes] = []
                size = 0
                for chunk in resp.iter_bytes():
                    size += len(chunk)
                    if size > MAX_REPLY:
                        raise DiscoveryError(f"{url} answered with more than {MAX_REPLY // 2**20} MiB; not reading it")
                    left = self.left()
                    if left is not None and left <= 0:  # a trickle: each read in time, the whole too slow
                        raise self._late(url)
                    chunks.append(chunk)
                raw = b"".join(chunks)
        except httpx.TimeoutException:
            left = self.left()
            if left is not None and left <= 0:
                raise self._late(url) from None
            if not required:
                return None
            raise DiscoveryError(f"{url} did not answer within {self.client.timeout.read:g}s") from None
        except httpx.HTTPError as exc:
            if not required:
                return None
            raise DiscoveryError(self._say(f"cannot reach {url} ({exc or type(exc).__name__})")) from None
        if resp.status_code != 200:
            if not required:
                return None
            said = parse_error_body(raw[:4096], resp.headers.get("content-type", "")).message
            said = self._say(said)[:300]
            answer = f"HTTP {resp.status_code}" + (f": {said}" if said else " with no message")
            if quirks.NO_KEY_DB in said:  # LiteLLM without a key database
                answer = f"{answer.rstrip('.')}: {quirks.NO_KEY_DB_MEANS}"
            if resp.status_code in (401, 403) or quirks.NO_KEY_DB in said:
                raise DiscoveryError(f"{url} answered {answer}", hint="check the key or headers stored with lime login")
            if resp.status_code == 404:
                raise DiscoveryError(f"{url} answered {answer}",
                                     hint="the base URL should be the one chat/completions lives under "
                                     "(for most servers it ends in /v1)")
            raise DiscoveryError(f"{url} answered {answer}")
        try:
            return jsonguard.loads(raw)
        except ValueError:
            if not required:
                return None
            snippet = self._say(" ".join(raw[:120].decode("utf-8", "replace").split()))
            raise DiscoveryError(f"{url} answered HTTP 200 with something that is not JSON: {snippet!r}") from None


def _items(data: Any) -> list[dict[str, Any]]:
    listed = data.get("data") if isinstance(data, dict) else None
    if not isinstance(listed, list):
        return []
    return [m for m in listed if isinstance(m, dict) and isinstance(m.get("id"), str) and m["id"]]


def _ollama(show: Any, loaded_ctx: int | None) -> Discovery:
    import re

    show = show if isinstance(show, dict) else {}
    caps_raw = show.get("capabilities")
    caps = {c for c in caps_raw if isinstance(c, str)} if isinstance(caps_raw, list) else None
    raw = show.get("model_info")
    info: dict[str, Any] = raw if isinstance(raw, dict) else {}
    arch = info.get("general.architecture")
    trained = _pos_int(info.get(f"{arch}.context_length")) if isinstance(arch, str) else None
    params = show.get("parameters")
    # At most 12 digits: int() refuses a string of thousands of them, and no window has more.
    m = re.search(r"^\s*num_ctx\s+(\d{1,12})\s*$", params, re.M) if isinstance(params, str) else None
    num_ctx = _pos_int(int(m.group(1))) if m else None
    if num_ctx:
        n_ctx, note = num_ctx, "the model's num_ctx parameter"
    elif loaded_ctx:
        n_ctx, note = loaded_ctx, "the context the server loaded it with"
    else:
        n_ctx, note = OLLAMA_DEFAULT_CTX, ("Ollama's default num_ctx; raise it with OLLAMA_CONTEXT_LENGTH or "
                                           "--extra-body '{\"options\": {\"num_ctx\": N}}'")
    if trained and n_ctx > trained:
        n_ctx = trained
    tools = None if caps is None else "tools" in caps
    return Discovery(
        server="ollama", n_ctx=n_ctx, n_ctx_train=trained, supports_tools=tools, supports_tool_calls=tools,
        supports_reasoning_effort=caps is not None and "thinking" in caps, supports_include_usage=True,
        vision=None if caps is None else "vision" in caps, supports_response_format=True, window_note=note,
        chat=caps is None or "completion" in caps,
    )


def _lmstudio(item: dict[str, Any]) -> Discovery:
    caps_raw = item.get("capabilities")
    tools = ("tool_use" in caps_raw) if isinstance(caps_raw, list) else None
    loaded = _pos_int(item.get("loaded_context_length"))
    trained = _pos_int(item.get("max_context_length"))
    return Discovery(
        server="lmstudio", n_ctx=loaded or trained, n_ctx_train=trained, supports_tools=tools,
        supports_tool_calls=tools, supports_reasoning_effort=False, vision=item.get("type") == "vlm",
        supports_response_format=True,
        window_note="" if loaded else "the model's maximum; it is not loaded, and LM Studio may load it smaller",
        chat=item.get("type") not in ("embeddings", "embedding"),
    )


def _litellm(entry: dict[str, Any]) -> Discovery:
    raw = entry.get("model_info")
    info: dict[str, Any] = raw if isinstance(raw, dict) else {}

    def flag(name: str) -> bool | None:
        value = info.get(name)
        return value if isinstance(value, bool) else None

    # The parameters LiteLLM forwards to this model: said even where its supports_* flags are null.
    params_raw = info.get("supported_openai_params")
    params = {p for p in params_raw if isinstance(p, str)} if isinstance(params_raw, list) else None

    def listed(name: str) -> bool | None:
        return None if params is None else name in params

    tools = flag("supports_function_calling")
    tools = listed("tools") if tools is None else tools
    reasoning = flag("supports_reasoning")
    response_format = flag("supports_response_schema")
    return Discovery(
        server="litellm", n_ctx=_pos_int(info.get("max_input_tokens")) or _pos_int(info.get("max_tokens")),
        supports_tools=tools, supports_tool_calls=tools,
        supports_parallel_tool_calls=flag("supports_parallel_function_calling"),
        supports_reasoning_effort=bool(listed("reasoning_effort") if reasoning is None else reasoning),
        supports_include_usage=True, vision=flag("supports_vision"),
        supports_response_format=listed("response_format") if response_format is None else response_format,
        max_output=_pos_int(info.get("max_output_tokens")),
        chat=info.get("mode") in (None, "chat", "responses"),
        prices=_per_million(input_price=info.get("input_cost_per_token"),
                            output_price=info.get("output_cost_per_token"),
                            cached_input_price=info.get("cache_read_input_token_cost"),
                            cache_write_price=info.get("cache_creation_input_token_cost"),
                            cache_write_1h_price=info.get("cache_creation_input_token_cost_above_1hr")),
    )


MAX_TOKEN_PRICE = 0.01  # USD per token: $10,000 per million, far beyond any real model's price


def per_token(value: Any) -> float | None:
    """A published per-token price (a number, or a decimal string as OpenRouter sends it) when it
    is a finite number from 0 to :data:`MAX_TOKEN_PRICE`; None for anything else (``"-1"``, ``NaN``,
    ``"1e999"``, ``"free"``, ``true``)."""
    import math
    import re

    if isinstance(value, str):
        if len(value) > 40 or not re.fullmatch(r"\s*[0-9]+(\.[0-9]+)?([eE]-?[0-9]{1,3})?\s*", value):
            return None
        value = float(value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) and 0 <= value <= MAX_TOKEN_PRICE else None


def _per_million(**per_token_prices: Any) -> dict[str, float] | None:
    """Per-token prices as USD per million tokens, keyed by ModelEntry's price fields; None unless
    both input and output are sane (:func:`per_token`). An optional price that is not sane is left out."""
    out: dict[str, float] = {}
    for name, value in per_token_prices.items():
        usd = per_token(value)
        if usd is not None:
            out[name] = round(usd * 1e6, 6)
    if "input_price" not in out or "output_price" not in out:
        return None
    return out


def _openrouter(item: dict[str, Any]) -> Discovery:
    """One model of OpenRouter's ``/models``: ``context_length``, ``top_provider``,
    ``supported_parameters``, ``architecture`` and ``pricing`` (USD per token, as strings)."""
    params_raw = item.get("supported_parameters")
    params = {p for p in params_raw if isinstance(p, str)} if isinstance(params_raw, list) else None
    top, arch, pricing = (_obj(item.get(k)) for k in ("top_provider", "architecture", "pricing"))
    inputs, outputs = arch.get("input_modalities"), arch.get("output_modalities")
    tools = None if params is None else "tools" in params
    return Discovery(
        server="openrouter", n_ctx=_pos_int(item.get("context_length")) or _pos_int(top.get("context_length")),
        supports_tools=tools, supports_tool_calls=tools, supports_include_usage=True,
        supports_response_format=None if params is None else bool({"response_format", "structured_outputs"} & params),
        vision=("image" in inputs) if isinstance(inputs, list) else None,
        max_output=_pos_int(top.get("max_completion_tokens")),
        chat="text" in outputs if isinstance(outputs, list) else True,
        prices=_per_million(input_price=pricing.get("prompt"), output_price=pricing.get("completion"),
                            cached_input_price=pricing.get("input_cache_read"),
                            cache_write_price=pricing.get("input_cache_write")),
    )


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _is_openrouter(items: list[dict[str, Any]]) -> bool:
    """OpenRouter's listing: ``pricing`` objects with ``prompt`` and ``completion`` per token."""
    return any(isinstance(m.get("pricing"), dict) and "prompt" in m["pricing"] and "completion" in m["pricing"]
               for m in items)


def survey(base_url: str, headers: dict[str, str] | None = None, *, models: list[str] | None = None,
           timeout: float = 10.0, secrets: tuple[str, ...] = (), limit: int | None = None,
           deadline: float | None = None) -> Survey:
    """List the server's models and read what it says about each (or only about ``models``).

    ``limit`` caps how many models are described (the rest are ``left_over``); ``deadline`` (seconds)
    bounds the whole survey: models an Ollama server had not described by then are ``out_of_time``.
    Raises DiscoveryError, quoting the server, when it cannot be reached or refuses to list its
    models (or does not list them before the deadline); a server that lists models but describes
    none of them gives a Survey without windows.
    """
    fetch = _Fetcher(base_url, dict(headers or {}), timeout, secrets, deadline)
    try:
        listing = fetch.fetch("GET", endpoint_url(base_url, "models"), required=True)
        items = _items(listing)
        if not items:
            raise DiscoveryError(f"{endpoint_url(base_url, 'models')} answered without a list of models "
                                 "(expected {\"data\": [{\"id\": ...}]})")
        ids = tuple(dict.fromkeys(m["id"] for m in items))
        listed = set(ids)
        wanted = [i for i in dict.fromkeys(models or ids) if i in listed]
        left_over = tuple(wanted[limit:]) if limit is not None else ()
        wanted = wanted[:limit] if limit is not None else wanted
        root = server_root(base_url)
        server, found, late = _describe(fetch, base_url, root, items, listing, wanted)
    finally:
        fetch.close()
    return Survey(server=server, base_url=base_url, ids=ids, found=found, left_over=left_over, out_of_time=late)


def _describe(fetch: _Fetcher, base_url: str, root: str, items: list[dict[str, Any]], listing: Any,
              wanted: list[str]) -> tuple[str, dict[str, Discovery], tuple[str, ...]]:
    """Which server this is, what it says about each wanted model, and the wanted models the
    deadline left undescribed. One probe per kind at most, except Ollama's one per model."""
    by_id = {m["id"]: m for m in items}
    if any(_pos_int(m.get("max_model_len")) for m in items):
        return "vllm", {i: _vllm(by_id[i]) for i in wanted}, ()
    if any(m.get("owned_by") == "llamacpp" or isinstance(m.get("meta"), dict) for m in items):
        props = fetch.fetch("GET", endpoint_url(root, "props"), required=False)
        return "llama.cpp", _llamacpp(props, listing, wanted), ()
    if _is_openrouter(items):
        return "openrouter", {i: _openrouter(by_id[i]) for i in wanted}, ()
    version = fetch.fetch("GET", endpoint_url(root, "api/version"), required=False)
    if isinstance(version, dict) and isinstance(version.get("version"), str):
        ps = fetch.fetch("GET", endpoint_url(root, "api/ps"), required=False)
        loaded = {m.get("name"): _pos_int(m.get("context_length")) for m in _list(ps, "models")}
        found: dict[str, Discovery] = {}
        for n, i in enumerate(wanted):
            try:
                show = fetch.fetch("POST", endpoint_url(root, "api/show"), {"model": i}, required=False)
            except DiscoveryError:
                if (fetch.left() or 1) > 0:
                    raise
                return "ollama", found, tuple(wanted[n:])
            if isinstance(show, dict):
                found[i] = _ollama(show, loaded.get(i))
        return "ollama", found, ()
    v0 = [m for m in _items(fetch.fetch("GET", endpoint_url(root, "api/v0/models"), required=False))
          if "max_context_length" in m or "state" in m]
    if v0:
        lm = {m["id"]: m for m in v0}
        return "lmstudio", {i: _lmstudio(lm[i]) for i in wanted if i in lm}, ()
    info = fetch.fetch("GET", endpoint_url(root, "model/info"), required=False)
    if _list(info, "data") and any("model_name" in d for d in _list(info, "data")):
        per_name: dict[str, dict[str, Any]] = {}
        for d in _list(info, "data"):
            if isinstance(d.get("model_name"), str):
                per_name.setdefault(d["model_name"], d)
        return "litellm", {i: _litellm(per_name[i]) for i in wanted if i in per_name}, ()
    props = fetch.fetch("GET", endpoint_url(root, "props"), required=False)
    if isinstance(props, dict) and ("default_generation_settings" in props or "chat_template" in props):
        return "llama.cpp", _llamacpp(props, listing, wanted), ()
    return "openai-compatible", {}, ()


def _list(data: Any, key: str) -> list[dict[str, Any]]:
    value = data.get(key) if isinstance(data, dict) else None
    return [d for d in value if isinstance(d, dict)] if isinstance(value, list) else []


def _vllm(item: dict[str, Any]) -> Discovery:
    # vLLM says nothing about tools (--enable-auto-tool-choice) or reasoning: neither is assumed.
    return Discovery(server="vllm", n_ctx=_pos_int(item.get("max_model_len")), supports_include_usage=True,
                     supports_reasoning_effort=False, supports_response_format=True)


def _llamacpp(props: Any, listing: Any, wanted: list[str]) -> dict[str, Discovery]:
    found = {}
    for i in wanted:
        d = parse(props, listing, model=i)
        if d is not None:
            found[i] = dataclasses.replace(d, server="llama.cpp", supports_reasoning_effort=bool(
                d.supports_reasoning_effort))
    return found
