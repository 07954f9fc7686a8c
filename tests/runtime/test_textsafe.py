"""The terminal sanitiser: escape sequences and controls become visible text, never controls."""

from __future__ import annotations

import pytest

from lime.textsafe import StreamSanitizer, is_safe, sanitize

ATTACKS = [
    ("\x1b]52;c;cHduZWQ=\x07", "␛]52;c;cHduZWQ=␇"),             # OSC 52: write the clipboard
    ("\x1b]0;owned\x1b\\", "␛]0;owned␛\\"),                        # OSC 0: window title
    ("\x1b[2J\x1b[H", "␛[2J␛[H"),                                  # clear the screen
    ("\x1b]8;;https://evil/\x1b\\click\x1b]8;;\x1b\\", "␛]8;;https://evil/␛\\click␛]8;;␛\\"),  # OSC 8 link
    ("\x1bP+q\x1b\\", "␛P+q␛\\"),                                   # DCS
    ("touch PWNED # \r\x1b[2Kls -la", "touch PWNED # ␍␛[2Kls -la"),  # hidden command
    ("abc\x08\x08\x08xyz", "abc␈␈␈xyz"),                           # backspace overwrite
    ("\x9b2J", "<U+009B>2J"),                                       # C1 CSI
    ("\x9d52;c;x\x9c", "<U+009D>52;c;x<U+009C>"),                   # C1 OSC / ST
    ("rm -rf / \u202e# txt.exe", "rm -rf / <U+202E># txt.exe"),     # bidi override
    ("\x00\x7f", "␀␡"),
    ("bad \udcff byte", "bad \\xff byte"),
]


@pytest.mark.parametrize(("raw", "shown"), ATTACKS)
def test_controls_are_shown_visibly(raw: str, shown: str) -> None:
    out = sanitize(raw)
    assert out == shown
    assert is_safe(out) and not is_safe(raw)
    assert "\x1b" not in out and "\r" not in out and "\x07" not in out


def test_newlines_tabs_and_unicode_are_kept() -> None:
    text = "line 1\n\tindented — café 漢字 🍋\nlast"
    assert sanitize(text) == text
    assert sanitize("a\r\nb\r\n") == "a\nb\n"
    assert sanitize("") == ""


def test_stream_pieces_join_crlf_and_flush_a_lone_cr() -> None:
    s = StreamSanitizer()
    assert s.feed("one\r") == "one"
    assert s.feed("\ntwo\x1b[31m") == "\ntwo␛[31m"
    assert s.feed("x\r") == "x"
    assert s.flush() == "␍"
    assert s.flush() == ""
