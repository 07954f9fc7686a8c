"""Terminal output for streamed answers.

``MarkdownStream`` renders Markdown as it arrives without re-rendering the whole answer on every
chunk: finished blocks (paragraphs, lists, headings, code fences) are rendered once and printed
above a small live region, and only the block still being written is redrawn, at most a few
times a second. A long code block is printed in slices of lines as they complete, so the live
region stays small however long the answer gets. Rendering cost therefore grows linearly with
the answer, not quadratically.
"""

from __future__ import annotations

import re
import time
from typing import Any

FENCE_RE = re.compile(r"^(\s*)(`{3,}|~{3,})\s*([\w+#.-]*)")
HEADING_RE = re.compile(r"^ {0,3}#{1,6}(\s|$)")
CODE_THEME = "monokai"
# Links are printed as "text (url)": a terminal hyperlink (OSC 8) would show the model's words and
# hide where they point.


class MarkdownStream:
    """Incremental Markdown renderer on a rich Console (a terminal)."""

    def __init__(self, console: Any, *, refresh_interval: float = 0.1, code_chunk_lines: int = 40,
                 max_block_lines: int = 60) -> None:
        self.console = console
        self.refresh_interval = refresh_interval
        self.code_chunk_lines = code_chunk_lines
        self.max_block_lines = max_block_lines
        self.partial = ""  # text after the last newline
        self.block: list[str] = []  # complete lines of the block being written
        self.fence: str | None = None  # the opening marker while inside a code fence
        self.fence_lang = ""
        self.fence_indent = 0  # a fence inside a list item is indented; its lines are dedented to render
        self.fence_chunked = False  # part of this fence was already printed
        self.live: Any = None
        self._last_refresh = 0.0
        self.blocks_rendered = 0
        self.tail_renders = 0

    # -- input ---------------------------------------------------------------------------

    def feed(self, delta: str) -> None:
        if not delta:
            return
        text = self.partial + delta
        lines = text.split("\n")
        self.partial = lines.pop()
        for line in lines:
            self._line(line)
        self._refresh()

    def finish(self) -> None:
        if self.partial:
            self._line(self.partial)
            self.partial = ""
        if self.fence is not None:
            self._flush_fence(final=True)
        else:
            self._flush_block()
        self._stop_live()

    # -- block structure -------------------------------------------------------------------

    def _line(self, line: str) -> None:
        if self.fence is not None:
            m = FENCE_RE.match(line)
            if m and m.group(2)[0] == self.fence[0] and len(m.group(2)) >= len(self.fence) and not m.group(3):
                self.block.append(line)
                self._flush_fence(final=True)
                return
            self.block.append(line)
            code_lines = len(self.block) - (0 if self.fence_chunked else 1)
            if code_lines >= self.code_chunk_lines:
                self._flush_fence(final=False)
            return
        m = FENCE_RE.match(line)
        if m:
            self._flush_block()
            self.fence, self.fence_lang, self.fence_chunked = m.group(2), m.group(3), False
            self.fence_indent = len(m.group(1).expandtabs(4))
            self.block = [line]
            return
        if not line.strip():
            self._flush_block()
            return
        if HEADING_RE.match(line):
            self._flush_block()
            self.block = [line]
            self._flush_block()
            return
        self.block.append(line)
        if len(self.block) >= self.max_block_lines and not self.block[0].lstrip().startswith("|"):
            self._flush_block()

    def _flush_block(self) -> None:
        if not self.block:
            return
        from rich.markdown import Markdown

        text = "\n".join(self.block)
        self.block = []
        self._print(Markdown(text, code_theme=CODE_THEME, hyperlinks=False))

    def _flush_fence(self, *, final: bool) -> None:
        lines = [_dedent(ln, self.fence_indent) for ln in self.block]
        if not self.fence_chunked and final:
            from rich.markdown import Markdown

            if len(lines) == 1 or not FENCE_RE.match(lines[-1]):
                lines = [*lines, self.fence or "```"]
            self._print(Markdown("\n".join(lines), code_theme=CODE_THEME, hyperlinks=False))
        else:
            from rich.syntax import Syntax

            body = lines[1:] if not self.fence_chunked else lines
            if final and body and FENCE_RE.match(body[-1]):
                body = body[:-1]
            if body:
                top = 0 if self.fence_chunked else 1
                bottom = 1 if final else 0
                self._print(Syntax("\n".join(body), self.fence_lang or "text", theme=CODE_THEME,
                                   word_wrap=True, padding=(top, 1, bottom, 1)))
            self.fence_chunked = not final
        self.block = []
        if final:
            self.fence = None
            self.fence_lang = ""
            self.fence_indent = 0
            self.fence_chunked = False

    # -- output ----------------------------------------------------------------------------

    def _print(self, renderable: Any) -> None:
        self.blocks_rendered += 1
        if self.live is not None:
            from rich.text import Text

            # Drop the stale tail before printing above it; the next feed redraws the (now short) tail.
            self.live.update(Text(""), refresh=False)
            self._last_refresh = 0.0
            self.live.console.print(renderable)
        else:
            self.console.print(renderable)

    def _tail_text(self) -> str:
        lines = [*self.block, self.partial] if self.partial else list(self.block)
        limit = max(4, (self.console.height or 24) - 4)
        if self.fence is not None:
            body = lines[1:] if not self.fence_chunked else lines
            body = body[-limit:]
            return "\n".join([f"{self.fence}{self.fence_lang}", *body, self.fence])
        return "\n".join(lines[-limit:])

    def _refresh(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last_refresh < self.refresh_interval:
            return
        self._last_refresh = now
        text = self._tail_text()
        if not text.strip():
            if self.live is not None:
                from rich.text import Text

                self.live.update(Text(""), refresh=True)
            return
        from rich.markdown import Markdown

        self.tail_renders += 1
        renderable = Markdown(text, code_theme=CODE_THEME, hyperlinks=False)
        if self.live is None:
            from rich.live import Live

            self.live = Live(renderable, console=self.console, auto_refresh=False, transient=True,
                             vertical_overflow="crop")
            self.live.start(refresh=True)
        else:
            self.live.update(renderable, refresh=True)

    def _stop_live(self) -> None:
        if self.live is not None:
            from rich.text import Text

            self.live.update(Text(""), refresh=True)
            self.live.stop()
            self.live = None


def _dedent(line: str, n: int) -> str:
    if n <= 0:
        return line
    stripped = line.expandtabs(4)
    cut = len(stripped) - len(stripped.lstrip(" "))
    return stripped[min(cut, n):]


class PlainStream:
    """Raw text straight to a file (pipes, dumb terminals)."""

    def __init__(self, out: Any) -> None:
        self.out = out
        self.ended_with_newline = True

    def feed(self, delta: str) -> None:
        if delta:
            self.out.write(delta)
            self.out.flush()
            self.ended_with_newline = delta.endswith("\n")

    def finish(self) -> None:
        if not self.ended_with_newline:
            self.out.write("\n")
            self.out.flush()
            self.ended_with_newline = True
