"""What attaching a mentioned file costs before the request (``@big.txt`` in a prompt).

    python bench/bench_mentions.py [--mb 1]

Times ``attach`` on a prompt mentioning a 1 MB text file (workspace checks, read, fencing), with
reading the same file with ``Path.read_text`` as the baseline; best of 20, in milliseconds.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=float, default=1.0)
    a = ap.parse_args()
    from lime.cli.mentions import attach
    from lime.runtime.workspace import Workspace

    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)
        line = "def handler(request): return respond(request.body)  # a line of code\n"
        Path("big.txt").write_text(line * int(a.mb * 1_000_000 / len(line)))
        ws = Workspace.create()
        best = base = float("inf")
        for _ in range(20):
            t0 = time.perf_counter()
            out = attach("review @big.txt", ws, vision=False, model="m", window=1_000_000)
            best = min(best, time.perf_counter() - t0)
            t0 = time.perf_counter()
            Path("big.txt").read_text()
            base = min(base, time.perf_counter() - t0)
        assert "<file path=\"big.txt\">" in out.text
        print(f"attach @big.txt ({a.mb:g} MB): {best * 1000:.2f} ms; read_text alone {base * 1000:.2f} ms; "
              f"ratio {best / base:.1f}x")


if __name__ == "__main__":
    main()
