"""grep_search through ripgrep against the Python line-by-line grep it replaced, on a large tree.

The tree is synthetic source: FILES files of LINES lines in nested directories, with a rare
match. Both searches return the same hits; the ratio is old time / new time (higher is better).

Usage: python bench/bench_grep.py [files] [lines] [repeats]
"""

from __future__ import annotations

import fnmatch
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

from lime.runtime.tools import TOOLS, Workspace, run_tool

SKIP = {".git", ".hg", ".svn", "node_modules", "__pycache__", ".venv", ".mypy_cache", ".ruff_cache"}


def old_grep(root: Path, pattern: str, glob: str | None = None, limit: int = 200) -> list[str]:
    """The grep lime had before: os.walk, Python's re on every line."""
    rx = re.compile(pattern)
    hits: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP)
        for name in sorted(filenames):
            if glob and not fnmatch.fnmatch(name, glob):
                continue
            f = Path(dirpath) / name
            with f.open("rb") as fh:
                data = fh.read(2_000_000)
            if b"\0" in data[:8192]:
                continue
            for n, line in enumerate(data.decode("utf-8", errors="replace").splitlines(), 1):
                if rx.search(line):
                    hits.append(f"{f.relative_to(root)}:{n}:{line}")
                    if len(hits) > limit:
                        return hits
    return hits


def make_tree(root: Path, files: int, lines: int) -> None:
    body = "\n".join(f"    value_{i} = compute(alpha, beta, {i})  # ordinary line of code" for i in range(lines))
    for i in range(files):
        d = root / f"pkg{i % 40}" / f"mod{i % 7}"
        d.mkdir(parents=True, exist_ok=True)
        extra = "\n    raise NeedleError('rare')\n" if i % 500 == 0 else "\n"
        (d / f"file{i}.py").write_text(f"def f{i}():\n{body}{extra}")


def timed(fn: object, repeats: int) -> float:
    runs = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()  # type: ignore[operator]
        runs.append(time.perf_counter() - t0)
    return statistics.median(runs)


def main() -> None:
    files = int(sys.argv[1]) if len(sys.argv) > 1 else 4000
    lines = int(sys.argv[2]) if len(sys.argv) > 2 else 250
    repeats = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp).resolve()
        make_tree(root, files, lines)
        size = sum(p.stat().st_size for p in root.rglob("*.py"))
        ws = Workspace(root, [], [])
        new = run_tool(TOOLS["grep_search"], ws, {"pattern": r"Needle\w+\('rare'\)"}).content.splitlines()
        old = old_grep(root, r"Needle\w+\('rare'\)")
        assert sorted(new) == sorted(old), (new[:3], old[:3])
        t_old = timed(lambda: old_grep(root, r"Needle\w+\('rare'\)"), repeats)
        t_new = timed(lambda: run_tool(TOOLS["grep_search"], ws, {"pattern": r"Needle\w+\('rare'\)"}), repeats)
        print(f"tree: {files} files, {size / 1e6:.0f} MB, {len(new)} hits")
        print(f"old Python grep: {t_old * 1000:.0f} ms   ripgrep grep_search: {t_new * 1000:.0f} ms")
        print(f"ratio old/new: {t_old / t_new:.1f}x")


if __name__ == "__main__":
    main()
