"""Model entries: the schema of ``models.json``, its defaults, and validation that names the field."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

PROVIDERS: tuple[str, ...] = ("openai", "anthropic", "gemini", "openai-compat", "custom")
# Lime's spellings; the older ones are still read (and written back in Lime's form).
PARAM_PRESETS: tuple[str, ...] = ("none", "verbosity_only", "reasoning_only", "reasoning_and_verbosity")
PARAM_PRESET_ALIASES: dict[str, str] = {
    "verbosity": "verbosity_only", "reasoning": "reasoning_only",
    "reasoning-and-verbosity": "reasoning_and_verbosity",
    "verbosity-only": "verbosity_only", "reasoning-only": "reasoning_only",
}
# Body fields lime itself owns: an entry's extra_body may not replace them.
RESERVED_BODY_FIELDS = frozenset(("model", "messages", "stream"))
MAX_OUTPUT_CAP = 32768

Source = Literal["builtin", "user"]


def canonical_param_preset(value: str) -> str | None:
    """Lime's spelling of a param preset, or None when it is no preset at all."""
    value = value.strip()
    if value in PARAM_PRESETS:
        return value
    return PARAM_PRESET_ALIASES.get(value)


def default_max_output(window: int) -> int:
    """clamp(window / 4, 1, 32768)."""
    return max(1, min(window // 4, MAX_OUTPUT_CAP))


def default_upper_max_output(window: int, max_output: int) -> int:
    """min(max_output * 2, window / 2), never below max_output."""
    return max(max_output, min(max_output * 2, window // 2))


def default_auto_compact(window: int, max_output: int) -> int:
    """90% of the window minus the room kept for the answer, at least 1 token.

    Compacting there leaves space for one full-length reply plus a 10% margin for the
    client-side estimate being short of the server's own count.
    """
    return max(1, (window * 9) // 10 - max_output)


@dataclass(frozen=True)
class ModelEntry:
    """A model as the catalog knows it: where it is served and what it accepts."""

    slug: str
    provider: str
    context_window: int
    service: str | None = None
    display_name: str = ""
    description: str = "Custom model"
    api_id: str | None = None
    max_output: int = 0
    upper_max_output: int = 0
    auto_compact: int = 0
    param_preset: str = "none"
    supports_vision: bool = False
    supports_parallel_tool_calls: bool = False
    supports_reasoning_summaries: bool = False
    supports_extended_thinking: bool = False
    # Anthropic: thinking as {"type": "adaptive"} with an effort, not a token budget.
    supports_adaptive_thinking: bool = False
    # Tri-state: None inherits the preset's belief; True/False pin it (local servers, proxies).
    supports_tools: bool | None = None
    supports_include_usage: bool | None = None
    supports_reasoning_effort: bool | None = None
    supports_response_format: bool | None = None
    # The window the model was trained for, when a server reported one larger than it serves.
    trained_context_window: int | None = None
    # USD per million tokens (None: unknown; catalog/prices.py holds the built-in list and the rules).
    input_price: float | None = None
    cached_input_price: float | None = None
    output_price: float | None = None
    cache_write_price: float | None = None  # 5-minute prompt-cache writes (None: as input; Anthropic: 1.25×)
    cache_write_1h_price: float | None = None  # 1-hour writes (None: as 5-minute ones; Anthropic: 2×)
    prices_checked: str | None = None  # the date the prices were read or typed, YYYY-MM-DD
    # Merged into every request body for this model (vLLM chat_template_kwargs, Ollama options...).
    extra_body: dict[str, Any] | None = field(default=None, hash=False)
    source: Source = field(default="user", compare=False)

    def __post_init__(self) -> None:
        preset = canonical_param_preset(self.param_preset)
        if preset is not None and preset != self.param_preset:
            object.__setattr__(self, "param_preset", preset)
        # Fill the documented defaults for anything left at 0/empty.
        if not self.display_name:
            object.__setattr__(self, "display_name", self.slug)
        if self.max_output <= 0:
            object.__setattr__(self, "max_output", default_max_output(self.context_window))
        if self.upper_max_output <= 0:
            object.__setattr__(
                self, "upper_max_output", default_upper_max_output(self.context_window, self.max_output)
            )
        if self.auto_compact <= 0:
            object.__setattr__(
                self, "auto_compact", default_auto_compact(self.context_window, self.max_output)
            )

    @property
    def wire_id(self) -> str:
        return self.api_id or self.slug

    @property
    def allows_reasoning(self) -> bool:
        return self.param_preset in ("reasoning_only", "reasoning_and_verbosity")

    @property
    def allows_verbosity(self) -> bool:
        return self.param_preset in ("verbosity_only", "reasoning_and_verbosity")

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("source")
        for key in _OPTIONAL_KEYS:
            if data[key] is None or data[key] == {}:
                data.pop(key)
        return data


class EntryError(ValueError):
    """One entry of models.json is malformed; ``field`` names the culprit."""

    def __init__(self, entry: str, field_name: str, problem: str) -> None:
        super().__init__(f"entry {entry!r}, field {field_name!r}: {problem}")
        self.entry = entry
        self.field = field_name
        self.problem = problem


_BOOL_FIELDS = (
    "supports_vision",
    "supports_parallel_tool_calls",
    "supports_reasoning_summaries",
    "supports_extended_thinking",
    "supports_adaptive_thinking",
)
_TRISTATE_FIELDS = ("supports_tools", "supports_include_usage", "supports_reasoning_effort",
                    "supports_response_format")
_PRICE_FIELDS = ("input_price", "cached_input_price", "output_price", "cache_write_price", "cache_write_1h_price")
_OPTIONAL_KEYS = (("service", "api_id", "trained_context_window", "extra_body") + _TRISTATE_FIELDS + _PRICE_FIELDS
                  + ("prices_checked",))
_INT_FIELDS = ("max_output", "upper_max_output", "auto_compact")
_STR_FIELDS = ("display_name", "description", "api_id")
KNOWN_FIELDS = frozenset(
    ("slug", "provider", "service", "context_window", "param_preset", "trained_context_window", "extra_body")
    + _BOOL_FIELDS + _TRISTATE_FIELDS + _INT_FIELDS + _STR_FIELDS + _PRICE_FIELDS + ("prices_checked",)
)


def _positive_int(entry: str, name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value.strip())
        else:
            raise EntryError(entry, name, f"must be a positive integer, got {value!r}")
    if value <= 0:
        raise EntryError(entry, name, f"must be a positive integer, got {value}")
    return int(value)


def entry_from_json(data: Any, *, index: int, source: Source = "user") -> ModelEntry:
    """Validate one raw entry. Raises EntryError naming the entry and field."""
    label = f"#{index}"
    if not isinstance(data, dict):
        raise EntryError(label, "(entry)", "must be a JSON object")
    slug = data.get("slug")
    if not isinstance(slug, str) or not slug.strip():
        raise EntryError(label, "slug", "is required and must be a non-empty string")
    slug = slug.strip()
    provider = data.get("provider")
    if provider not in PROVIDERS:
        raise EntryError(slug, "provider", f"must be one of {', '.join(PROVIDERS)}, got {provider!r}")
    service = data.get("service")
    if provider == "openai-compat":
        if not isinstance(service, str) or not service.strip():
            raise EntryError(slug, "service", "is required for provider openai-compat")
        service = service.strip()
    elif service is not None:
        raise EntryError(slug, "service", "is only accepted with provider openai-compat")
    if "context_window" not in data:
        raise EntryError(slug, "context_window", "is required")
    window = _positive_int(slug, "context_window", data["context_window"])
    kwargs: dict[str, Any] = {}
    for name in _INT_FIELDS:
        if data.get(name) is not None:
            kwargs[name] = _positive_int(slug, name, data[name])
    for name in _STR_FIELDS:
        value = data.get(name)
        if value is not None and not isinstance(value, str):
            raise EntryError(slug, name, f"must be a string, got {value!r}")
        if value:
            kwargs[name] = value
    for name in _BOOL_FIELDS + _TRISTATE_FIELDS:
        value = data.get(name)
        if value is not None and not isinstance(value, bool):
            raise EntryError(slug, name, f"must be true or false, got {value!r}")
        if value is not None:
            kwargs[name] = value
    raw_preset = data.get("param_preset", "none")
    param_preset = canonical_param_preset(raw_preset) if isinstance(raw_preset, str) else None
    if param_preset is None:
        raise EntryError(slug, "param_preset", f"must be one of {', '.join(PARAM_PRESETS)}, got {raw_preset!r}")
    if data.get("trained_context_window") is not None:
        kwargs["trained_context_window"] = _positive_int(slug, "trained_context_window",
                                                         data["trained_context_window"])
    if data.get("extra_body") is not None:
        kwargs["extra_body"] = check_extra_body(slug, data["extra_body"])
    for name in _PRICE_FIELDS:
        if data.get(name) is not None:
            kwargs[name] = check_price(slug, name, data[name])
    if data.get("prices_checked") is not None:
        kwargs["prices_checked"] = check_date(slug, "prices_checked", data["prices_checked"])
    entry = ModelEntry(
        slug=slug, provider=provider, service=service, context_window=window,
        param_preset=param_preset, source=source, **kwargs,
    )
    check_entry(entry)
    return entry


def check_price(entry: str, name: str, value: Any) -> float:
    """A price in USD per million tokens: a finite number, zero or more."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < 1e6:
        raise EntryError(entry, name, f"must be a number of dollars per million tokens, got {value!r}")
    return float(value)


def check_date(entry: str, name: str, value: Any) -> str:
    """A calendar date, ``YYYY-MM-DD`` (or a month, ``YYYY-MM``)."""
    import re

    if not isinstance(value, str) or not re.fullmatch(r"[0-9]{4}-[0-9]{2}(-[0-9]{2})?", value):
        raise EntryError(entry, name, f"must be a date like 2026-12-05, got {value!r}")
    return value


def check_extra_body(entry: str, value: Any) -> dict[str, Any]:
    """An ``extra_body`` must be a JSON object that leaves lime's own fields alone."""
    if not isinstance(value, dict):
        raise EntryError(entry, "extra_body", f"must be a JSON object, got {type(value).__name__}")
    taken = sorted(RESERVED_BODY_FIELDS & set(value))
    if taken:
        raise EntryError(entry, "extra_body", f"may not set {', '.join(taken)} (lime sends those itself)")
    return value


def check_entry(entry: ModelEntry) -> None:
    """Cross-field rules shared by ``models.json`` and ``lime model add``."""
    if entry.max_output > entry.context_window:
        raise EntryError(entry.slug, "max_output", f"({entry.max_output}) exceeds context_window ({entry.context_window})")
    if entry.upper_max_output < entry.max_output:
        raise EntryError(entry.slug, "upper_max_output", f"({entry.upper_max_output}) is below max_output ({entry.max_output})")
    if entry.auto_compact > entry.context_window:
        raise EntryError(entry.slug, "auto_compact", f"({entry.auto_compact}) exceeds context_window ({entry.context_window})")
