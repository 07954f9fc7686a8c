"""Model entries: the schema of ``models.json``, its defaults, and validation that names the field."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

PROVIDERS: tuple[str, ...] = ("openai", "anthropic", "gemini", "openai-compat", "custom")
PARAM_PRESETS: tuple[str, ...] = ("none", "verbosity", "reasoning", "reasoning-and-verbosity")
MAX_OUTPUT_CAP = 32768

Source = Literal["builtin", "user"]


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
    # Tri-state: None inherits the preset's belief; True/False pin it (local servers, proxies).
    supports_tools: bool | None = None
    supports_include_usage: bool | None = None
    supports_reasoning_effort: bool | None = None
    source: Source = field(default="user", compare=False)

    def __post_init__(self) -> None:
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
        return self.param_preset in ("reasoning", "reasoning-and-verbosity")

    @property
    def allows_verbosity(self) -> bool:
        return self.param_preset in ("verbosity", "reasoning-and-verbosity")

    def with_source(self, source: Source) -> ModelEntry:
        return replace(self, source=source)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("source")
        for key in ("service", "api_id", "supports_tools", "supports_include_usage", "supports_reasoning_effort"):
            if data[key] is None:
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
)
_TRISTATE_FIELDS = ("supports_tools", "supports_include_usage", "supports_reasoning_effort")
_INT_FIELDS = ("max_output", "upper_max_output", "auto_compact")
_STR_FIELDS = ("display_name", "description", "api_id")
KNOWN_FIELDS = frozenset(
    ("slug", "provider", "service", "context_window", "param_preset")
    + _BOOL_FIELDS + _TRISTATE_FIELDS + _INT_FIELDS + _STR_FIELDS
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
    param_preset = data.get("param_preset", "none")
    if param_preset not in PARAM_PRESETS:
        raise EntryError(slug, "param_preset", f"must be one of {', '.join(PARAM_PRESETS)}, got {param_preset!r}")
    entry = ModelEntry(
        slug=slug, provider=provider, service=service, context_window=window,
        param_preset=param_preset, source=source, **kwargs,
    )
    check_entry(entry)
    return entry


def check_entry(entry: ModelEntry) -> None:
    """Cross-field rules shared by ``models.json`` and ``lime model add``."""
    if entry.max_output > entry.context_window:
        raise EntryError(entry.slug, "max_output", f"({entry.max_output}) exceeds context_window ({entry.context_window})")
    if entry.upper_max_output < entry.max_output:
        raise EntryError(entry.slug, "upper_max_output", f"({entry.upper_max_output}) is below max_output ({entry.max_output})")
    if entry.auto_compact > entry.context_window:
        raise EntryError(entry.slug, "auto_compact", f"({entry.auto_compact}) exceeds context_window ({entry.context_window})")
