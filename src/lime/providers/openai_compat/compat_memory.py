"""What each endpoint has taught us it rejects, kept in the config home across runs.

When a server refuses an optional field (``stream_options``, ``max_tokens``, ``parallel_tool_calls``...)
the client drops or renames it and retries; the lesson is stored here, keyed by service, base URL
and model, so the next run builds an acceptable request straight away. Re-pointing a service at
another URL starts from a clean slate, ``lime model show`` lists the lessons and ``lime model
forget`` clears them, and each one expires after a week (then it is re-learned if still true).
Written atomically under a lock: several ``lime`` processes may learn at once.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from lime import config

LESSON_TTL = 7 * 24 * 3600.0
VERSION = 2


@dataclass
class Lessons:
    """What an endpoint has refused so far, so that later requests to it are built the way it accepts."""

    drop: set[str] = field(default_factory=set)  # top-level body fields never to send
    strip_message_fields: set[str] = field(default_factory=set)  # e.g. reasoning_content on messages
    max_tokens_field: str | None = None  # the output-cap field this model accepts
    # When each lesson was learned: "drop:verbosity", "strip:reasoning_content", "max_tokens_field".
    learned_at: dict[str, float] = field(default_factory=dict, compare=False)

    def empty(self) -> bool:
        return not self.drop and not self.strip_message_fields and self.max_tokens_field is None

    def describe(self) -> list[str]:
        """Each lesson in words, oldest first."""
        items = [(f"drop:{f}", f"not sending '{f}'") for f in sorted(self.drop)]
        items += [(f"strip:{f}", f"not sending '{f}' on messages") for f in sorted(self.strip_message_fields)]
        if self.max_tokens_field:
            items.append(("max_tokens_field", f"sending the output cap as '{self.max_tokens_field}'"))
        items.sort(key=lambda kv: self.learned_at.get(kv[0], 0.0))
        return [text for _, text in items]

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.drop:
            out["drop"] = {f: self.learned_at.get(f"drop:{f}", 0.0) for f in sorted(self.drop)}
        if self.strip_message_fields:
            out["strip_message_fields"] = {f: self.learned_at.get(f"strip:{f}", 0.0)
                                           for f in sorted(self.strip_message_fields)}
        if self.max_tokens_field:
            out["max_tokens_field"] = {"value": self.max_tokens_field,
                                       "learned_at": self.learned_at.get("max_tokens_field", 0.0)}
        return out

    @classmethod
    def from_json(cls, data: Any, now: float | None = None) -> Lessons:
        """Rebuild stored lessons, leaving out the expired ones and anything malformed."""
        out = cls()
        if not isinstance(data, dict):
            return out
        now = time.time() if now is None else now
        fresh_after, not_after = now - LESSON_TTL, now + 86400.0  # a date from the future never expires: refuse it
        for key, target, tag in (("drop", out.drop, "drop"), ("strip_message_fields", out.strip_message_fields,
                                                              "strip")):
            stored = data.get(key)
            if isinstance(stored, dict):
                for name, at in stored.items():
                    if isinstance(name, str) and _is_time(at) and fresh_after < at <= not_after:
                        target.add(name)
                        out.learned_at[f"{tag}:{name}"] = float(at)
        mtf = data.get("max_tokens_field")
        if isinstance(mtf, dict) and mtf.get("value") in ("max_tokens", "max_completion_tokens") \
                and _is_time(mtf.get("learned_at")) and fresh_after < mtf["learned_at"] <= not_after:
            out.max_tokens_field = mtf["value"]
            out.learned_at["max_tokens_field"] = float(mtf["learned_at"])
        return out


def _is_time(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def endpoint_key(service: str, base_url: str | None) -> str:
    """Lessons belong to one service at one address: a new URL is a new server."""
    return f"{service} {(base_url or '').rstrip('/')}"


def _read() -> dict[str, Any]:
    path = config.compat_memory_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}  # a missing or damaged memory only costs a retry; never fail a request on it
    if not isinstance(data, dict) or data.get("version") != VERSION:
        return {}  # version 1 had no URL or dates: those lessons are simply re-learned
    return data


def _endpoints(data: dict[str, Any]) -> dict[str, Any]:
    endpoints = data.get("endpoints")
    return endpoints if isinstance(endpoints, dict) else {}


def load(service: str, model: str, base_url: str | None = None) -> Lessons:
    entry = _endpoints(_read()).get(endpoint_key(service, base_url))
    if not isinstance(entry, dict):
        return Lessons()
    return Lessons.from_json(entry.get(model))


def save(service: str, model: str, lessons: Lessons, base_url: str | None = None) -> bool:
    """Record the lessons (new ones dated now); False (nothing written) when the home cannot be written."""
    from lime.errors import LimeError
    from lime.storage import atomic_write_json, locked

    now = time.time()
    try:
        config.ensure_home()
        path = config.compat_memory_path()
        with locked(path):
            data = _read()
            endpoints = _endpoints(data)
            key = endpoint_key(service, base_url)
            entry = endpoints.get(key)
            if not isinstance(entry, dict):
                entry = {}
            merged = Lessons.from_json(entry.get(model), now)
            for name in lessons.drop - merged.drop:
                merged.learned_at[f"drop:{name}"] = lessons.learned_at.get(f"drop:{name}", now)
            for name in lessons.strip_message_fields - merged.strip_message_fields:
                merged.learned_at[f"strip:{name}"] = lessons.learned_at.get(f"strip:{name}", now)
            if lessons.max_tokens_field and lessons.max_tokens_field != merged.max_tokens_field:
                merged.learned_at["max_tokens_field"] = now
                merged.max_tokens_field = lessons.max_tokens_field
            merged.drop |= lessons.drop
            merged.strip_message_fields |= lessons.strip_message_fields
            entry[model] = merged.to_json()
            endpoints[key] = entry
            atomic_write_json(path, {"version": VERSION, "endpoints": endpoints}, mode=0o600)
        return True
    except (OSError, LimeError):
        return False


def forget(service: str | None = None, base_url: str | None = None, model: str | None = None) -> int:
    """Drop what was learned (for one model at one endpoint, one service, or all); how many lessons went."""
    from lime.storage import atomic_write_json, locked

    path = config.compat_memory_path()
    if not path.exists():
        return 0
    removed = 0
    with locked(path):
        data = _read()
        endpoints = _endpoints(data)
        for key in list(endpoints):
            if service is not None and key.split(" ", 1)[0] != service:
                continue
            if base_url is not None and key != endpoint_key(service or "", base_url):
                continue
            entry = endpoints[key]
            if not isinstance(entry, dict):
                endpoints.pop(key)
                continue
            for m in [model] if model is not None else list(entry):
                if m in entry:
                    removed += len(Lessons.from_json(entry.pop(m)).describe())
            if not entry:
                endpoints.pop(key)
        atomic_write_json(path, {"version": VERSION, "endpoints": endpoints}, mode=0o600)
    return removed
