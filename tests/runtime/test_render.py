"""The streaming Markdown renderer shows the same thing as rendering the finished answer at once,
whatever the chunking, while rendering each finished block only once."""

from __future__ import annotations

import io

import pytest
from rich.console import Console
from rich.markdown import Markdown

from lime.cli.render import MarkdownStream, PlainStream

DOC = "\n".join([
    "# Title", "", "A paragraph with **bold** and `code`,", "continued on a second line.", "",
    "1. first", "2. second", "", "| a | b |", "|---|---|", "| 1 | 2 |", "",
    "```python", "def f():", "", "    return 1", "```", "",
    "- item", "  ```", "  indented fence", "", "  still code", "  ```", "",
    "```", *[f"line {i}" for i in range(95)], "```", "", "Last words.",
]) + "\n"


def lines(text: str) -> list[str]:
    return [ln.rstrip() for ln in text.splitlines() if ln.strip()]


def render_whole(md: str) -> list[str]:
    buf = io.StringIO()
    Console(file=buf, width=80, color_system=None).print(Markdown(md, code_theme="monokai"))
    return lines(buf.getvalue())


@pytest.mark.parametrize("size", [1, 7, 64, 10_000])
def test_streamed_output_matches_the_whole_render(size: int) -> None:
    buf = io.StringIO()
    con = Console(file=buf, width=80, color_system=None)  # not a terminal: only finished blocks print
    ms = MarkdownStream(con)
    for i in range(0, len(DOC), size):
        ms.feed(DOC[i:i + size])
    ms.finish()
    got = lines(buf.getvalue())
    want = render_whole(DOC)
    assert [g.strip() for g in got] == [w.strip() for w in want]
    assert "**bold**" not in buf.getvalue()
    assert ms.blocks_rendered < 20


def test_plain_stream_passes_text_through() -> None:
    out = io.StringIO()
    ps = PlainStream(out)
    for piece in ("Hel", "lo **x**"):
        ps.feed(piece)
    ps.finish()
    assert out.getvalue() == "Hello **x**\n"
