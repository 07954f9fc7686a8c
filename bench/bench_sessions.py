"""How long listing saved sessions takes (``lime sessions list`` and the /resume picker).

    python bench/bench_sessions.py [--sessions 1000] [--turns 40]

Writes N sessions of T turns each (real ``Session`` files, each turn ~2 KB) into a temporary
directory, then times ``summaries()``, which reads each file's first line and its tail only, and
for comparison loading every session whole. Prints milliseconds and the ratio.
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
    ap.add_argument("--sessions", type=int, default=1000)
    ap.add_argument("--turns", type=int, default=40)
    a = ap.parse_args()
    from lime.runtime.session import Session, summaries

    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        for i in range(a.sessions):
            s = Session.new("bench-model", directory=d, system="system prompt " * 50)
            s.id = f"s{i:05d}"
            s.path = d / f"{s.id}.jsonl"
            s.secrets = []
            for t in range(a.turns):
                s.append({"role": "user", "content": f"question {t} of session {i} " + "x" * 900})
                s.append({"role": "assistant", "content": "answer " + "y" * 1000},
                         usage={"prompt_tokens": 10, "completion_tokens": 5})
            s.close()
        size = sum(p.stat().st_size for p in d.iterdir())
        os.sync()
        best = float("inf")
        for _ in range(5):
            t0 = time.perf_counter()
            items = summaries(d)
            best = min(best, time.perf_counter() - t0)
        assert len(items) == a.sessions and items[0].title
        t0 = time.perf_counter()
        for p in list(d.iterdir())[:100]:
            Session.load(p)
        whole = (time.perf_counter() - t0) * a.sessions / 100
        print(f"{a.sessions} sessions, {size / 1e6:.0f} MB on disk")
        print(f"summaries (first line + tail): {best * 1000:.1f} ms")
        print(f"loading each session whole:    {whole * 1000:.0f} ms (extrapolated from 100)")
        print(f"ratio: {whole / best:.0f}x")


if __name__ == "__main__":
    main()
