"""Start-up cost of the light commands, as a ratio to a bare ``python -c pass`` in the same run.

Usage: python bench/bench_startup.py [runs]
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time


def median_wall(argv: list[str], env: dict[str, str], runs: int) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 15
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "LIME_CONFIG_HOME": home, "GROQ_API_KEY": "bench-key-not-used-000000"}
        # Measure what an installed lime costs: with its bytecode cached, as pip leaves it.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        for args in (["--help"], ["model", "list"], ["status"]):
            subprocess.run([sys.executable, "-m", "lime", *args], env=env, capture_output=True, check=False)
        base = median_wall([sys.executable, "-c", "pass"], env, runs)
        print(f"python -c pass: {base * 1000:7.1f} ms (median of {runs})")
        # The installed console script (what users run) when there is one, else ``python -m lime``.
        script = os.path.join(os.path.dirname(sys.executable), "lime")
        lime = [script] if os.access(script, os.X_OK) else [sys.executable, "-m", "lime"]
        for args in (["--help"], ["--version"], ["model", "list"], ["status"]):
            t = median_wall([*lime, *args], env, runs)
            print(f"lime {' '.join(args):<12} {t * 1000:7.1f} ms  = {t / base:4.2f}x bare python")


if __name__ == "__main__":
    main()
