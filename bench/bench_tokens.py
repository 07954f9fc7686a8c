"""What a token estimate costs the first time in a process, how fast it counts, and how close it is.

    python bench/bench_tokens.py [runs]

Each first-use figure is the median over ``runs`` fresh processes (with the ``lime`` package
imported, as in any lime command): CPU time (wall time on a shared machine mostly measures the
neighbours) and RSS growth from before the import to after the first count. Rows: lime's estimate (the heuristic), OpenAI's exact
o200k table loaded the way lime loads it for close calls, and ``import bpe_openai`` (what the
first estimate used to cost). Then counting speed on 1 MB of Python source, and the estimate's
error against the exact o200k count on prose, code and digits. Target: the first estimate costs
at most 50 ms and 10 MiB.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

FIRST_USE = {
    "lime estimate (heuristic)": ("from lime.tokens import count_text as f; "
                                  "f('Hello there, could you summarise the documentation?')"),
    "exact o200k, as lime loads it": "from lime.tokens import exact; exact.o200k_count('Hello there')",
    "import bpe_openai (before)": ("import warnings; warnings.simplefilter('ignore'); import bpe_openai; "
                                   "bpe_openai.get_encoding('o200k_base').encode_ordinary('Hello there')"),
}

PROBE = """
import sys, time
import lime  # what every lime process has loaded before its first estimate
def rss():
    for line in open('/proc/self/status'):
        if line.startswith('VmRSS:'):
            return int(line.split()[1]) / 1024
    return 0.0
r0 = rss(); c0 = time.process_time()
exec(sys.argv[1])
print(time.process_time() - c0, rss() - r0)
"""


def first_use(code: str, runs: int) -> tuple[float, float] | None:
    times, mems = [], []
    for _ in range(runs):
        proc = subprocess.run([sys.executable, "-c", PROBE, code], capture_output=True, text=True)
        if proc.returncode != 0:
            return None
        t, m = map(float, proc.stdout.split())
        times.append(t)
        mems.append(m)
    return statistics.median(times), statistics.median(mems)


def samples() -> dict[str, str]:
    prose = (ROOT / "tests" / "realserver" / "data" / "prose.txt").read_text()
    code = "".join(p.read_text() for p in sorted((ROOT / "src" / "lime" / "runtime").glob("*.py")))
    digits = "\n".join(f"{i * 7919 % 10007},{i * 104729 % 99991},{i ** 3},{i / 7:.4f}" for i in range(2000))
    return {"prose": prose * 20, "code": code, "digits": digits}


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    print("first estimate in a fresh process (median of", runs, "runs)")
    results = {name: first_use(code, runs) for name, code in FIRST_USE.items()}
    base = results["lime estimate (heuristic)"]
    for name, res in results.items():
        if res is None:
            print(f"  {name:<32} unavailable")
            continue
        ratio = f"{res[0] / base[0]:6.1f}x time" if base else ""
        print(f"  {name:<32} {res[0] * 1000:7.1f} ms {res[1]:6.1f} MiB   {ratio}")

    from lime import tokens

    try:
        from lime.tokens import exact
    except ImportError:  # an older lime: only the first-use figures apply
        print("\n(this lime has no heuristic estimate: counting speed and accuracy not measured)")
        return

    code = samples()["code"]
    big = (code * (1_000_000 // len(code) + 1))[:1_000_000]
    t0 = time.process_time()
    tokens.heuristic_count(big)
    heur = time.process_time() - t0
    exact.o200k_count("warm up")
    t0 = time.process_time()
    exact_n = exact.o200k_count(big)
    ex = time.process_time() - t0
    print(f"\ncounting 1 MB of Python (CPU): heuristic {heur * 1000:.1f} ms, exact o200k {ex * 1000:.1f} ms "
          f"({heur / ex:.2f}x); 10 MB: ", end="")
    t0 = time.process_time()
    tokens.heuristic_count(big * 10)
    print(f"heuristic {(time.process_time() - t0) * 1000:.1f} ms (sampled past "
          f"{tokens.heuristic.SAMPLE_ABOVE:,} characters)")
    if exact_n is None:
        return
    print("\nestimate / exact o200k count:")
    for kind, text in samples().items():
        real = exact.o200k_count(text) or 1
        o = tokens.count_text(text)
        print(f"  {kind:<7} {o:>7,} / {real:>7,} = {o / real:.3f}")


if __name__ == "__main__":
    main()
