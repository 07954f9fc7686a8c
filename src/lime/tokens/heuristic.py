"""A tokenizer-free token count: one regular-expression pass and a weighted sum.

Loading a real byte-pair table costs 60+ ms and 60+ MiB (o200k has 200k entries); this needs
neither. The text is cut into the pieces byte-pair encoders start from (a word with its leading
space, a digit run, a run of punctuation, a line break with its indentation, a run of spaces; a
long word that o200k keeps whole counts apart from one it splits), and
each piece kind is priced by weights fitted (non-negative relative least squares) on prose,
model answers, Markdown, Python, C, JSON, digit-heavy and non-English text against two real
tokenizers:

- ``O200K``: OpenAI's o200k (digits in groups of three); mean error within 4% per kind of text
  (8% on JSON), 12% at most on one text outside C headers.
- ``OPEN``: SmolLM2's 49k vocabulary, typical of open models that split every digit, keep
  ``_`` apart from the word after it and spend more pieces on indentation; mean error within 4%
  per kind of English text, 14% at most on one model answer. (Non-English text costs such
  English-centred vocabularies 20% more than this says; learning per model corrects it.)

Texts longer than ``SAMPLE_ABOVE`` characters are priced from evenly spaced samples, so a count
costs the same bounded time at any length and never raises.
"""

from __future__ import annotations

import functools
import re

_PIECES = re.compile(
    r"(?P<w> ?[^\W\d_]+)"        # a word (any script) with its leading space
    r"|(?P<c>'(?:s|t|re|ve|m|ll|d)\b)"  # an English contraction
    r"|(?P<d> ?\d+)"             # a digit run
    r"|(?P<p> ?[^\s\w]+|_+)"     # a run of punctuation (and underscores)
    r"|(?P<n>\s*\n[ \t]*)"       # line breaks with the next line's indentation
    r"|(?P<s>\s+)"               # other white space
)

# Feature order: words, letters past the 6th, digits, digit groups of three, spaced digit runs,
# punctuation runs, punctuation characters past the first, line breaks, space runs,
# non-ASCII characters, CJK characters, capitals in all-capital words, contractions, long words
# that are one o200k token.
N_FEATURES = 14
SAMPLE_ABOVE = 400_000
_SAMPLES = 8


class Profile:
    """How one family of tokenizers prices each kind of piece."""

    __slots__ = ("name", "weights")

    def __init__(self, name: str, weights: tuple[float, ...]) -> None:
        self.name = name
        self.weights = weights

    def __repr__(self) -> str:
        return f"Profile({self.name!r})"

    def price(self, features: list[float]) -> int:
        total = sum(w * f for w, f in zip(self.weights, features, strict=True))
        return max(1, round(total)) if any(features) else 0


O200K = Profile("o200k", (0.992, 0.307, 0.075, 0.923, 1.064, 0.723, 0.119, 1.146, 1.006, 0.009, 0.453, 0.0, 0.221, 0.133))
OPEN = Profile("open", (1.049, 0.462, 0.781, 0.619, 0.562, 0.842, 0.437, 1.0, 1.297, 0.569, 0.983, 0.239, 0.809, 0.0))


class _Vocabulary:
    """Lower-case words of 7+ letters that o200k keeps whole (23k of them).

    A long word costs one token when the vocabulary has it, several when it does not; the length
    alone cannot tell "transportation" (one token in o200k and in SmolLM2) from "Trainwelldome".
    Stored as the sorted CRC-32 of each word (92 kB, little-endian u32): loading it is one read,
    where a set of the words themselves took 5 ms to build at every start. Two words sharing a
    checksum (one chance in 185,000 for a word outside the list) only move an estimate by a token."""

    def __init__(self) -> None:
        import os
        import sys

        try:
            with open(os.path.join(os.path.dirname(__file__), "o200k_words.crc32"), "rb") as f:
                data = f.read()
        except OSError:
            data = b""
        data = data[:len(data) // 4 * 4]
        if sys.byteorder == "big":  # stored little-endian
            data = b"".join(data[i:i + 4][::-1] for i in range(0, len(data), 4))
        self.table = memoryview(data).cast("I")

    def __contains__(self, word: str) -> bool:
        from bisect import bisect_left
        from zlib import crc32

        key = crc32(word.encode("utf-8", "replace"))
        i = bisect_left(self.table, key)
        return i < len(self.table) and self.table[i] == key


@functools.lru_cache(maxsize=1)
def _words() -> _Vocabulary:
    return _Vocabulary()


def _features_of(text: str) -> list[float]:
    words = extra = digits = groups = spaced = punct = pchars = breaks = spaces = wide = cjk = caps = contractions = 0
    known = 0
    vocabulary: _Vocabulary | None = None  # loaded at the first long word
    for m in _PIECES.finditer(text):
        kind = m.lastgroup
        s = m.group()
        if kind == "w":
            n = len(s) - (s[0] == " ")
            words += 1
            if n > 6:
                if vocabulary is None:
                    vocabulary = _words()
                if s.lstrip(" ").lower() in vocabulary:
                    known += 1
                else:
                    extra += n - 6
            if not s.isascii():
                wide += sum(1 for ch in s if ch > "\x7f")
                cjk += sum(1 for ch in s if ch >= "\u2e80")
            elif n > 1 and s.isupper():
                caps += n - 1
        elif kind == "d":
            lead = s[0] == " "
            n = len(s) - lead
            digits += n
            groups += (n + 2) // 3
            spaced += lead
        elif kind == "p":
            punct += 1
            pchars += len(s) - 1 - (s[0] == " ")
        elif kind == "c":
            contractions += 1
        elif kind == "n":
            breaks += 1
        else:
            spaces += 1
    return [words, extra, digits, groups, spaced, punct, pchars, breaks, spaces, wide, cjk, caps, contractions, known]


def features(text: str) -> list[float]:
    """The piece counts of ``text``; for a very long text, scaled up from evenly spaced samples."""
    if len(text) <= SAMPLE_ABOVE:
        return [float(x) for x in _features_of(text)]
    size = SAMPLE_ABOVE // _SAMPLES
    step = (len(text) - size) / (_SAMPLES - 1)
    total = [0.0] * N_FEATURES
    for i in range(_SAMPLES):
        start = int(i * step)
        for k, x in enumerate(_features_of(text[start:start + size])):
            total[k] += x
    scale = len(text) / (size * _SAMPLES)
    return [x * scale for x in total]


def heuristic_count(text: str, profile: Profile = O200K) -> int:
    """Tokens of ``text`` as ``profile``'s tokenizer would count them, approximately."""
    if not text:
        return 0
    return profile.price(features(text))
