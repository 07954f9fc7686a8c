"""Render cost of a 2,000-line streamed Markdown answer in the terminal renderer.

Streams a mixed answer (headings, paragraphs, lists, tables, code fences) in small chunks, as a
model would, through ``lime.cli.render.MarkdownStream`` on a terminal-like rich Console, and
prints the total CPU cost, the worst single chunk (what a user would feel as a stall), and how
often the live tail was redrawn. For contrast: what one full re-render of the whole answer costs,
which a renderer that redraws everything on each refresh pays every time it refreshes.

Usage: python bench/bench_render.py [lines] [chunk_chars]
"""

from __future__ import annotations

import io
import sys
import time


def answer(lines: int) -> str:
    out: list[str] = []
    i = 0
    while len(out) < lines:
        i += 1
        out += [f"## Section {i}", "",
                f"This is paragraph {i}, with **bold**, *italic* and `code` spans, long enough to wrap "
                "across the terminal width at least once so that wrapping is part of the cost.", "",
                "- first point about the design", "- second point, with a [link](https://example.com)",
                "- third point", "",
                "| name | value |", "|------|-------|", f"| row{i} | {i * 3} |", "",
                "```python"]
        out += [f"def f{i}_{j}(x):  # line {j}" if j % 2 == 0 else f"    return x * {j}" for j in range(24)]
        out += ["```", ""]
    return "\n".join(out[:lines]) + "\n"


def chunks(text: str, size: int) -> list[str]:
    return [text[i:i + size] for i in range(0, len(text), size)]


def console() -> object:
    from rich.console import Console

    return Console(file=io.StringIO(), force_terminal=True, width=100, height=40, color_system="truecolor")


def main() -> None:
    lines = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    size = int(sys.argv[2]) if len(sys.argv) > 2 else 16
    from rich.markdown import Markdown

    from lime.cli.render import MarkdownStream

    text = answer(lines)
    pieces = chunks(text, size)
    con = console()
    ms = MarkdownStream(con)
    worst = 0.0
    t_cpu, t0 = time.process_time(), time.perf_counter()
    for p in pieces:
        s = time.perf_counter()
        ms.feed(p)
        worst = max(worst, time.perf_counter() - s)
    ms.finish()
    wall = time.perf_counter() - t0
    cpu = time.process_time() - t_cpu

    full = console()
    s = time.perf_counter()
    full.print(Markdown(text))  # type: ignore[attr-defined]
    one_full = time.perf_counter() - s

    # A renderer that redraws the whole answer on each refresh renders, on average, half the answer
    # per refresh; give it the same number of refreshes this run's live tail needed.
    half = console()
    s = time.perf_counter()
    half.print(Markdown(text[: len(text) // 2]))  # type: ignore[attr-defined]
    naive = (time.perf_counter() - s) * max(1, ms.tail_renders)

    print(f"streamed answer: {lines} lines, {len(text):,} characters, {len(pieces):,} chunks of {size} characters")
    print(f"  MarkdownStream total:       {wall * 1000:8.1f} ms wall, {cpu * 1000:8.1f} ms CPU")
    print(f"  per chunk (mean):           {wall / len(pieces) * 1e6:8.1f} us")
    print(f"  worst single chunk:         {worst * 1000:8.1f} ms")
    print(f"  blocks rendered once:       {ms.blocks_rendered:8d}   live-tail redraws: {ms.tail_renders}")
    print(f"  one full render of answer:  {one_full * 1000:8.1f} ms  (a redraw-everything renderer pays this on "
          "every refresh)")
    print(f"  ratio stream total / one full render: {wall / one_full:.2f}")
    print(f"  redraw-everything estimate, {ms.tail_renders} refreshes x half-answer render: {naive:.1f} s "
          f"({naive / wall:.0f}x the incremental renderer)")


if __name__ == "__main__":
    main()
