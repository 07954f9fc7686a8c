"""Make untrusted text safe to show on a terminal.

Model answers, reasoning, tool output, file names and server error bodies can carry control
characters: an OSC 52 sequence writes the clipboard, ``ESC[2J`` clears the screen, a lone ``\\r``
or ``ESC[2K`` overwrites what an approval prompt just showed. ``sanitize`` keeps newlines and tabs
and turns every other control character into a visible stand-in, so the bytes of an escape
sequence stay readable (``␛]52;c;…␇``) but none of them reaches the terminal as a control.

Stdlib only: the bottom layer, usable from every other module.
"""

from __future__ import annotations

import re

# C0 controls (minus \t and \n), DEL, C1 controls, bidirectional overrides and isolates (they
# reorder what is displayed: "Trojan Source"), and lone surrogates (undecodable bytes kept by
# ``surrogateescape``; printing them would fail).
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def _visible(match: re.Match[str]) -> str:
    ch = match.group()
    code = ord(ch)
    if code < 0x20:
        return chr(0x2400 + code)  # Unicode control pictures: ␛ ␍ ␈ ␇ ...
    if code == 0x7F:
        return "␡"
    if 0xDC80 <= code <= 0xDCFF:
        return f"\\x{code - 0xDC00:02x}"  # an undecodable byte, as Python would write it
    return f"<U+{code:04X}>"


def sanitize(text: str) -> str:
    """``text`` with every control character except newline and tab shown visibly.

    ``\\r\\n`` line ends become ``\\n``; a lone ``\\r`` (which would return to the start of the
    line and let later text overwrite earlier text) becomes ``␍``.
    """
    if text.isprintable():
        return text
    return _UNSAFE.sub(_visible, text.replace("\r\n", "\n"))


def is_safe(text: str) -> bool:
    """True when ``text`` would be shown unchanged by ``sanitize``."""
    return _UNSAFE.search(text) is None


class StreamSanitizer:
    """``sanitize`` for text that arrives in pieces: a ``\\r`` at the end of one piece may be the
    first half of a ``\\r\\n`` line end, so it waits for the next piece."""

    def __init__(self) -> None:
        self._held = ""

    def feed(self, delta: str) -> str:
        text = self._held + delta
        self._held = ""
        if text.endswith("\r"):
            text, self._held = text[:-1], "\r"
        return sanitize(text)

    def flush(self) -> str:
        held, self._held = self._held, ""
        return sanitize(held)
