"""Checks every wire's tests share: a body fed in two pieces split at every byte gives the same
answer as the body fed whole (tool-call JSON and multi-byte UTF-8 split anywhere)."""

from __future__ import annotations

from typing import Any

from lime.providers.openai_compat.stream import Estimator
from lime.providers.openai_compat.types import Completion


def parse(wire: Any, pieces: list[bytes], body: dict[str, Any] | None = None) -> Completion:
    proc = wire.processor("m", Estimator([], None), body or {})
    for p in pieces:
        proc.feed(p)
    proc.end()
    c: Completion = proc.snapshot()
    return c


def same_at_every_split(wire: Any, raw: bytes, body: dict[str, Any] | None = None) -> Completion:
    whole = parse(wire, [raw], body)
    for i in range(1, len(raw)):
        c = parse(wire, [raw[:i], raw[i:]], body)
        assert (c.text, c.reasoning, [(t.id, t.name, t.arguments) for t in c.tool_calls], c.finish_reason,
                c.state) == (whole.text, whole.reasoning, [(t.id, t.name, t.arguments) for t in whole.tool_calls],
                             whole.finish_reason, whole.state), f"split at byte {i}"
    return whole
