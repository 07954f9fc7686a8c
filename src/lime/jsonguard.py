"""``json.loads`` for text from outside: a nesting-depth limit, and only ``ValueError`` on bad input.

The standard parser recurses once per ``[`` or ``{``: 100,000 nested brackets raise
``RecursionError`` (not a ``ValueError``, so callers' ``except ValueError`` misses it), and a few
hundred levels parse but break whatever walks the result later. A document cannot be deeper than
half its length, so short ones (every stream chunk) skip the check; longer ones pay two byte counts,
and only one with more brackets than the limit is measured properly.
"""

from __future__ import annotations

import json
import re
from typing import Any

__all__ = ["MAX_DEPTH", "JSONTooDeep", "depth_exceeds", "loads"]

MAX_DEPTH = 128
_STRING_B = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)
_NOT_BRACKET_B = re.compile(rb"[^\[\]{}]+")


class JSONTooDeep(ValueError):
    """Nested deeper than the limit: treated like any other document that is not valid JSON."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"JSON nested more than {limit} levels deep")
        self.limit = limit


def depth_exceeds(data: bytes | str, limit: int = MAX_DEPTH) -> bool:
    """True when brackets outside strings nest deeper than ``limit`` (linear passes, no recursion)."""
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    if len(raw) <= 2 * limit or raw.count(b"[") + raw.count(b"{") <= limit:
        return False
    brackets = _NOT_BRACKET_B.sub(b"", _STRING_B.sub(b"", raw))
    # Each pass removes the innermost pairs, so a document of depth d is empty after d passes.
    for _ in range(limit):
        if not brackets:
            return False
        shorter = brackets.replace(b"[]", b"").replace(b"{}", b"")
        if len(shorter) == len(brackets):
            return False  # unbalanced: not JSON, and the parser will say so
        brackets = shorter
    return bool(brackets)


def loads(data: bytes | str, *, max_depth: int = MAX_DEPTH) -> Any:
    """Parse JSON from an untrusted source; any problem (depth included) is a ``ValueError``."""
    if len(data) > 2 * max_depth and depth_exceeds(data, max_depth):
        raise JSONTooDeep(max_depth)
    try:
        return json.loads(data)
    except RecursionError:
        raise JSONTooDeep(max_depth) from None
