"""Reasoning a model inlines in its answer as ``<think>…</think>`` (or ``<thinking>…</thinking>``).

DeepSeek-R1 distills, QwQ and Qwen3 on a server without a reasoning parser put their thinking in
``content``. Only a block at the very start of the answer counts (after optional whitespace): a
tag later in the text is the model talking about tags. The tags may be split across any chunk
boundary, so the splitter holds back only what could still turn out to be a tag.
"""

from __future__ import annotations

from typing import Literal

Piece = tuple[Literal["reasoning", "text"], str]
_CLOSE = {"<think>": "</think>", "<thinking>": "</thinking>"}


def _partial_suffix(buf: str, tag: str) -> int:
    """Length of the longest end of ``buf`` that is the start of ``tag`` (what might be a split tag)."""
    for n in range(min(len(tag) - 1, len(buf)), 0, -1):
        if buf.endswith(tag[:n]):
            return n
    return 0


class ThinkSplitter:
    """Feed answer text as it streams; get ``("reasoning"|"text", piece)`` pairs back in order."""

    __slots__ = ("_buf", "_close", "_state")

    def __init__(self) -> None:
        self._buf = ""
        self._close = ""
        self._state = "start"  # start → think → after → text (or start → text)

    @property
    def passthrough(self) -> bool:
        """Once the answer proper has begun nothing more is held back: the caller may stop feeding."""
        return self._state == "text"

    def feed(self, text: str) -> list[Piece]:
        if self._state == "text":
            return [("text", text)] if text else []
        self._buf += text
        out: list[Piece] = []
        while True:
            buf = self._buf
            if self._state == "start":
                head = buf.lstrip()
                if not head:
                    return out
                tag = next((t for t in _CLOSE if head.startswith(t)), None)
                if tag is not None:
                    self._state, self._close, self._buf = "think", _CLOSE[tag], head[len(tag):]
                    continue
                if any(t.startswith(head) for t in _CLOSE):
                    return out  # "<thi": wait for the rest
                self._state, self._buf = "text", ""
                out.append(("text", buf))
                return out
            if self._state == "think":
                end = buf.find(self._close)
                if end >= 0:
                    if end:
                        out.append(("reasoning", buf[:end]))
                    self._state, self._buf = "after", buf[end + len(self._close):]
                    continue
                keep = _partial_suffix(buf, self._close)
                if len(buf) > keep:
                    out.append(("reasoning", buf[:len(buf) - keep]))
                self._buf = buf[len(buf) - keep:]
                return out
            # after the block: the blank lines before the answer are layout, not answer
            head = buf.lstrip()
            self._buf = ""
            if head:
                self._state = "text"
                out.append(("text", head))
            return out

    def flush(self) -> list[Piece]:
        """The answer ended: whatever was held back, as what it turned out to be."""
        buf, state = self._buf, self._state
        self._buf, self._state = "", "text"
        if not buf:
            return []
        if state == "think":  # never closed (cut off by max tokens): it was all thinking
            return [("reasoning", buf)]
        if state == "after":
            return [("text", buf.lstrip())] if buf.strip() else []
        return [("text", buf)]


def split(text: str) -> tuple[str, str]:
    """A whole answer → (reasoning, text)."""
    splitter = ThinkSplitter()
    reasoning: list[str] = []
    answer: list[str] = []
    for kind, piece in splitter.feed(text) + splitter.flush():
        (reasoning if kind == "reasoning" else answer).append(piece)
    return "".join(reasoning), "".join(answer)
