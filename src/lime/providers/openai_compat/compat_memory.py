"""What each service has taught us it rejects, kept in the config home across runs.

When a server refuses an optional field (``stream_options``, ``max_tokens``, ``parallel_tool_calls``...)
the client drops or renames it and retries; the lesson is stored here per service and model, so the
next run builds an acceptable request straight away. Written atomically under a lock: several
``lime`` processes may learn at once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from lime import config


@dataclass
class Lessons:
    drop: set[str] = field(default_factory=set)  # top-level body fields never to send
    strip_message_fields: set[str] = field(default_factory=set)  # e.g. reasoning_content on messages
    max_tokens_field: str | None = None  # the output-cap field this model accepts

    def empty(self) -> bool:
        return not self.drop and not self.strip_message_fields and self.max_tokens_field is None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.drop:
            out["drop"] = sorted(self.drop)
        if self.strip_message_fields:
            out["strip_message_fields"] = sorted(self.strip_message_fields)
        if self.max_tokens_field:
            out["max_tokens_field"] = self.max_tokens_field
        return out

    @classmethod
    def from_json(cls, data: Any) -> Lessons:
        if not isinstance(data, dict):
            return cls()
        drop = {str(x) for x in data.get("drop", []) if isinstance(x, str)}
        strip = {str(x) for x in data.get("strip_message_fields", []) if isinstance(x, str)}
        mtf = data.get("max_tokens_field")
        return cls(drop, strip, mtf if mtf in ("max_tokens", "max_completion_tokens") else None)


def _read() -> dict[str, Any]:
    path = config.compat_memory_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}  # a missing or damaged memory only costs a retry; never fail a request on it
    return data if isinstance(data, dict) else {}


def load(service: str, model: str) -> Lessons:
    services = _read().get("services")
    if not isinstance(services, dict):
        return Lessons()
    entry = services.get(service)
    if not isinstance(entry, dict):
        return Lessons()
    return Lessons.from_json(entry.get(model))


def save(service: str, model: str, lessons: Lessons) -> bool:
    """Record the lessons; False (and nothing written) when the config home cannot be written."""
    from lime.errors import LimeError
    from lime.storage import atomic_write_json, locked

    try:
        config.ensure_home()
        path = config.compat_memory_path()
        with locked(path):
            data = _read()
            services = data.get("services")
            if not isinstance(services, dict):
                services = {}
            entry = services.get(service)
            if not isinstance(entry, dict):
                entry = {}
            merged = Lessons.from_json(entry.get(model))
            merged.drop |= lessons.drop
            merged.strip_message_fields |= lessons.strip_message_fields
            merged.max_tokens_field = lessons.max_tokens_field or merged.max_tokens_field
            entry[model] = merged.to_json()
            services[service] = entry
            data["services"] = services
            data.setdefault("version", 1)
            atomic_write_json(path, data, mode=0o600)
        return True
    except (OSError, LimeError):
        return False


def forget(service: str | None = None) -> None:
    """Drop what was learned (for one service, or all)."""
    from lime.storage import atomic_write_json, locked

    path = config.compat_memory_path()
    if not path.exists():
        return
    with locked(path):
        data = _read()
        services = data.get("services")
        if isinstance(services, dict):
            if service is None:
                services.clear()
            else:
                services.pop(service, None)
        atomic_write_json(path, data, mode=0o600)
