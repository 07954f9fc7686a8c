"""``lime status`` on a new session vs a 1 GB one, and resuming: time per MB at two sizes.

    python bench/bench_status.py [size_mb] [runs]

The big session is written with lime's own ``Session`` (one turn), then grown by repeating its
turn lines (the format lime writes), so it has real running totals at its tail. ``lime status``
should cost the same on both (target ratio ~1.0); resuming reads each line once, so its time per
MB should be the same at 1/10 and at the full size (ratio ~1.0, i.e. linear).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from lime.runtime.session import Session

ANSWER = ("The second test fails because the tokenizer drops the trailing newline before the parser "
          "sees it, so the last statement is never terminated. ") * 40


def make_session(directory: Path, size_mb: int) -> Path:
    s = Session.new("bench-model", directory=directory, system="You are helpful.")
    s.append({"role": "user", "content": "Why does the second test fail?"})
    s.append({"role": "assistant", "content": ANSWER},
             usage={"prompt_tokens": 1234, "completion_tokens": 321, "total_tokens": 1555})
    s.close()
    lines = s.path.read_bytes().splitlines(keepends=True)
    turn = b"".join(lines[-2:])
    target = size_mb << 20
    with s.path.open("ab") as fh:
        block = turn * max(1, (4 << 20) // len(turn))
        size = s.path.stat().st_size
        while size < target:
            fh.write(block)
            size += len(block)
        fh.write(lines[-1])  # end on an answer whose running totals ``status`` reads
    return s.path


def status_time(home: Path, runs: int) -> float:
    env = {**os.environ, "LIME_CONFIG_HOME": str(home), "GROQ_API_KEY": "bench-key-not-used-000000"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    script = Path(sys.executable).with_name("lime")
    argv = [str(script)] if script.exists() else [sys.executable, "-m", "lime"]
    subprocess.run([*argv, "status"], env=env, capture_output=True, check=False)  # warm the bytecode cache
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run([*argv, "status"], env=env, capture_output=True, check=True)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def resume_cpu_per_mb(path: Path) -> float:
    t0 = time.process_time()
    s = Session.load(path)
    cpu = time.process_time() - t0
    assert s.messages
    return cpu / (path.stat().st_size / (1 << 20))


def main() -> None:
    size_mb = int(sys.argv[1]) if len(sys.argv) > 1 else 1024
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    with tempfile.TemporaryDirectory() as tmp:
        small_home, big_home = Path(tmp) / "small", Path(tmp) / "big"
        make_session(small_home / "sessions", 0)
        t0 = time.perf_counter()
        big = make_session(big_home / "sessions", size_mb)
        print(f"wrote a {big.stat().st_size / (1 << 20):,.0f} MB session in {time.perf_counter() - t0:.1f} s")
        small_t = status_time(small_home, runs)
        big_t = status_time(big_home, runs)
        print(f"lime status, new session:   {small_t * 1000:7.1f} ms")
        print(f"lime status, {size_mb} MB session: {big_t * 1000:7.1f} ms  = {big_t / small_t:.2f}x the new one")
        tenth = make_session(Path(tmp) / "tenth" / "sessions", max(1, size_mb // 10))
        resume_big = min(size_mb, 256)  # loading keeps the whole history in memory: bound the run
        part = make_session(Path(tmp) / "part" / "sessions", resume_big) if resume_big != size_mb else big
        a, b = resume_cpu_per_mb(tenth), resume_cpu_per_mb(part)
        print(f"resume: {a * 1000:.1f} ms CPU per MB at {tenth.stat().st_size >> 20} MB, {b * 1000:.1f} at "
              f"{part.stat().st_size >> 20} MB = {b / a:.2f}x (1.0: each line read once)")


if __name__ == "__main__":
    main()
