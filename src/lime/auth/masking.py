"""The one way lime hides API keys in what it prints or stores.

``mask_key`` is the form shown for a key lime names on purpose (``sk-...1a2b``). ``redact`` hides
every run of :data:`MIN_RUN` or more characters of any known key inside arbitrary text: a server
that echoes characters 3-15 of a key, a tool output that prints half of it, a session line.
"""

from __future__ import annotations

from collections.abc import Iterable

# A run this long of a random key is as good as a password prefix; shorter runs occur by chance.
MIN_RUN = 8
_BLOCK = MIN_RUN // 2
HIDDEN = "****"


def mask_key(key: str) -> str:
    """A form safe to show: the key's prefix kind and last four characters only."""
    if len(key) < 12:
        return HIDDEN
    prefix = key[:3] if key[:3].isascii() and key[2:3] in ("-", "_") else ""
    return f"{prefix}...{key[-4:]}"


def _spans(text: str, key: str) -> list[tuple[int, int]]:
    """Where runs of ``MIN_RUN``+ characters of ``key`` occur in ``text``.

    Every such run contains one whole aligned block ``key[o:o+4]`` (o a multiple of 4), so a C-speed
    ``str.find`` of each block finds every candidate; each hit is then extended both ways, at most
    the key's length, so the work stays linear in the text.
    """
    found: list[tuple[int, int]] = []
    n = len(key)
    for o in range(0, n - _BLOCK + 1, _BLOCK):
        block = key[o:o + _BLOCK]
        i = text.find(block)
        while i != -1:
            left = 0
            while left < o and i - left - 1 >= 0 and text[i - left - 1] == key[o - left - 1]:
                left += 1
            right = 0
            while o + _BLOCK + right < n and i + _BLOCK + right < len(text) \
                    and text[i + _BLOCK + right] == key[o + _BLOCK + right]:
                right += 1
            if left + _BLOCK + right >= MIN_RUN:
                found.append((i - left, i + _BLOCK + right))
            i = text.find(block, i + 1)
    return found


def redact(text: str, keys: Iterable[str]) -> str:
    """``text`` with every run of 8+ characters of any of ``keys`` replaced (a whole key by ``mask_key``)."""
    if not text:
        return text
    spans: list[tuple[int, int, str]] = []
    for key in {k for k in keys if k and len(k) >= MIN_RUN}:
        spans.extend((a, b, key) for a, b in _spans(text, key))
    if not spans:
        return text
    spans.sort()
    out: list[str] = []
    pos = 0
    start, end, key = spans[0]
    for a, b, k in [*spans[1:], (len(text) + 1, len(text) + 1, "")]:
        if a <= end:  # overlapping or touching runs hide as one
            if b > end:
                end, key = b, k
            continue
        out.append(text[pos:start])
        out.append(mask_key(key) if text[start:end] == key else HIDDEN)
        pos = end
        start, end, key = a, b, k
    out.append(text[pos:])
    return "".join(out)


def redact_json(value: object, keys: Iterable[str]) -> object:
    """``redact`` applied to every string (keys and values) inside a JSON-shaped value."""
    keys = [k for k in keys if k and len(k) >= MIN_RUN]
    if not keys:
        return value
    return _walk(value, keys)


def _walk(value: object, keys: list[str]) -> object:
    if isinstance(value, str):
        return redact(value, keys)
    if isinstance(value, dict):
        return {_walk(k, keys): _walk(v, keys) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_walk(v, keys) for v in value]
    return value


class StreamRedactor:
    """``redact`` for text that arrives in pieces (a streamed answer shown as it comes).

    A key run may be split across pieces, so the end of what arrived is held back while it could
    still be the start of one (the longest tail that is part of a key, and never half a run found);
    everything before it goes out masked. ``finish`` releases the rest.
    """

    def __init__(self, keys: Iterable[str]) -> None:
        self.keys = [k for k in set(keys) if k and len(k) >= MIN_RUN]
        self.longest = max((len(k) for k in self.keys), default=0)
        self.held = ""

    def feed(self, piece: str) -> str:
        if not self.keys:
            return piece
        buf = self.held + piece
        keep = 0
        for n in range(min(len(buf), self.longest), 0, -1):
            tail = buf[-n:]
            if any(tail in k for k in self.keys):
                keep = n
                break
        cut = len(buf) - keep
        for key in self.keys:
            for a, b in _spans(buf, key):
                if a < cut < b:
                    cut = a
        self.held = buf[cut:]
        return redact(buf[:cut], self.keys)

    def finish(self) -> str:
        out, self.held = redact(self.held, self.keys), ""
        return out
