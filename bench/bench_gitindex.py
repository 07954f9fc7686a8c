"""What it costs to ask whether git tracks ``.lime/settings.local.json``: lime's own reader of
``.git/index`` against running ``git ls-files``, for repositories of 1,000 to 100,000 files.

    python bench/bench_gitindex.py

The index is written by git itself (``update-index --index-info``, one blob for every path, no
files on disk). For each size and index version prints the median time of ``gitindex.tracked``
when the file is absent and when it is tracked (entries are parsed up to the path: git sorts them), and
``git ls-files --error-unmatch`` for comparison.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from lime.runtime import gitindex  # noqa: E402

WANT = ".lime/settings.local.json"
ENV = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}


def git(root: Path, *args: str, stdin: str | None = None) -> str:
    return subprocess.run(["git", *args], cwd=root, env=ENV, input=stdin, text=True, check=True,
                          capture_output=True).stdout


def median_ms(fn, n: int = 15) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000


def main() -> None:
    print(f"{'files':>8} {'ver':>3} {'index KB':>9} {'absent ms':>10} {'tracked ms':>11} {'git ls-files ms':>16} "
          f"{'lime/git':>9}")
    for n in (1_000, 10_000, 100_000):
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            git(root, "init", "-q")
            blob = git(root, "hash-object", "-w", "--stdin", stdin="x").strip()
            lines = "".join(f"100644 {blob}\tsrc/pkg{i % 97}/module_{i}.py\n" for i in range(n))
            git(root, "update-index", "--index-info", stdin=lines)
            for version in ("2", "4"):
                git(root, "update-index", "--index-version", version)
                git(root, "update-index", "--force-remove", WANT)
                absent = median_ms(lambda r=root: gitindex.tracked(r, [WANT]))
                git(root, "update-index", "--add", "--cacheinfo", f"100644,{blob},{WANT}")
                assert gitindex.tracked(root, [WANT]) == {WANT}
                present = median_ms(lambda r=root: gitindex.tracked(r, [WANT]))
                ls = median_ms(lambda r=root: subprocess.run(["git", "ls-files", "--error-unmatch", WANT], cwd=r,
                                                      env=ENV, capture_output=True), 5)
                size = (root / ".git" / "index").stat().st_size // 1024
                print(f"{n:>8,} {version:>3} {size:>9,} {absent:>10.2f} {present:>11.2f} {ls:>16.2f} "
                      f"{present / ls:>9.2f}")


if __name__ == "__main__":
    main()
