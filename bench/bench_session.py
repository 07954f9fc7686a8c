"""Per-turn cost of saving a session: turn 1 vs turn 1,000 (target ratio <= 1.5).

A turn saves the user's message and the answer (with its usage). Sessions are append-only JSONL,
so a turn's cost should not depend on how long the session already is. For contrast, the same
turns saved by rewriting the whole history each time (what a JSON-document store would do).

Usage: python bench/bench_session.py [turns] [repeats]
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from lime.runtime.session import Session

QUESTION = "Could you look at the parser and explain why the second test fails? " * 4
ANSWER = ("The second test fails because the tokenizer drops the trailing newline before the parser "
          "sees it, so the last statement is never terminated. ") * 6
USAGE = {"prompt_tokens": 1234, "completion_tokens": 321, "total_tokens": 1555, "estimated": False}


def one_run(turns: int, directory: Path) -> list[float]:
    s = Session.new("bench-model", directory=directory, system="You are helpful.")
    costs = []
    for i in range(turns):
        t0 = time.perf_counter_ns()
        s.append({"role": "user", "content": f"{i}: {QUESTION}"})
        s.append({"role": "assistant", "content": ANSWER}, usage=USAGE)
        costs.append((time.perf_counter_ns() - t0) / 1000)
    s.close()
    # The file must replay to the same history.
    assert Session.load(s.path).messages == s.messages
    return costs


def rewrite_run(turns: int, path: Path) -> list[float]:
    history: list[dict[str, object]] = []
    costs = []
    for i in range(turns):
        t0 = time.perf_counter_ns()
        history.append({"role": "user", "content": f"{i}: {QUESTION}"})
        history.append({"role": "assistant", "content": ANSWER, "usage": USAGE})
        path.write_text(json.dumps(history))
        costs.append((time.perf_counter_ns() - t0) / 1000)
    return costs


def window(costs: list[float], start: int, n: int = 20) -> float:
    return statistics.median(costs[start:start + n])


def main() -> None:
    turns = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    with tempfile.TemporaryDirectory() as tmp:
        runs = [one_run(turns, Path(tmp) / f"r{r}") for r in range(repeats)]
        early = statistics.median(window(c, 0) for c in runs)
        late = statistics.median(window(c, turns - 20) for c in runs)
        naive = rewrite_run(turns, Path(tmp) / "naive.json")
    print(f"append-only JSONL session, {turns} turns x {repeats} runs (median of 20-turn windows)")
    print(f"  save cost, turns 1-20:            {early:8.1f} us/turn")
    print(f"  save cost, turns {turns - 19}-{turns}:        {late:8.1f} us/turn")
    print(f"  ratio late/early:                 {late / early:8.2f}  (target <= 1.5)")
    print("whole-file rewrite, for contrast")
    print(f"  turns 1-20: {window(naive, 0):8.1f} us/turn   turns {turns - 19}-{turns}: "
          f"{window(naive, turns - 20):8.1f} us/turn   ratio {window(naive, turns - 20) / window(naive, 0):.1f}")


if __name__ == "__main__":
    main()
