"""Four sub-agents in one turn: do they run at the same time?

    python bench/bench_subagents.py [delay_seconds] [runs]

A scripted server (tests/support/fakeserver.py, in this process) answers the parent with four
``agent`` calls and each child after ``delay`` seconds (default 0.5). ``lime -p`` runs in a fresh
config home. Printed, as the server saw them: the children's summed answer time over the time
from the first child's request to the last child's answer (the overlap ratio: 4.0 when all four
run fully at once, 1.0 when they run one after another), and the whole one-shot's wall time over
four delays (what running them in turn would cost at least). Target: overlap ratio ≥ 3.5.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

KEY = "sk-bench-0000000000000000"
TASKS = [f"look at part {i}" for i in range(1, 5)]


def main() -> None:
    from support.env import user_env
    from support.fakeserver import FakeServer, Recorded, reply

    delay = float(sys.argv[1]) if len(sys.argv) > 1 else 0.5
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    spans: list[tuple[float, float]] = []
    lock = threading.Lock()

    def respond(req: Recorded) -> object:
        first = next((m.get("content") for m in req.messages if m.get("role") == "user"), "")
        if first in TASKS:
            start = time.monotonic()
            time.sleep(delay)
            with lock:
                spans.append((start, time.monotonic()))
            return reply(f"finding for {first}")
        if any(m.get("role") == "tool" for m in req.messages):
            return reply("summary")
        return reply("", tool_calls=[("agent", {"type": "explore", "prompt": t}) for t in TASKS])

    server = FakeServer()
    server.default = respond
    tmp = Path(tempfile.mkdtemp(prefix="lime-bench-subagents-"))
    models = tmp / "models.json"
    models.write_text(json.dumps({"models": [{"slug": "fake-model", "provider": "openai-compat", "service": "fake",
                                              "context_window": 32000, "supports_parallel_tool_calls": True}]}))
    env = user_env(tmp / "home", LIME_MODELS_FILE=str(models), LIME_MODEL="fake-model", HOME=str(tmp))
    lime = [sys.executable, "-m", "lime"]
    subprocess.run([*lime, "login", "--provider", "openai-compat", "--service", "fake", "--with-api-key",
                    "--with-base-url", server.base_url], input=KEY + "\n", text=True, env=env, check=True,
                   capture_output=True)
    ratios, walls = [], []
    try:
        for _ in range(runs):
            spans.clear()
            t0 = time.monotonic()
            proc = subprocess.run([*lime, "-p", "survey the four parts"], env=env, cwd=tmp, capture_output=True,
                                  text=True, stdin=subprocess.DEVNULL)
            walls.append(time.monotonic() - t0)
            if proc.returncode != 0 or len(spans) != 4:
                print(f"failed: exit {proc.returncode}, {len(spans)} children answered\n{proc.stderr}")
                return
            busy = sum(end - start for start, end in spans)
            window = max(e for _, e in spans) - min(s for s, _ in spans)
            ratios.append(busy / window)
    finally:
        server.close()
    print(f"4 sub-agents, each answered after {delay:.2f} s, {runs} runs (medians)")
    print(f"  overlap ratio (children's answer time / their span)   {statistics.median(ratios):.2f}  (4.0 = all at once)")
    print(f"  one-shot wall / 4 delays (the serial minimum)          {statistics.median(walls) / (4 * delay):.2f}")
    print(f"  one-shot wall                                          {statistics.median(walls):.2f} s")


if __name__ == "__main__":
    os.environ.pop("LIME_MODEL", None)
    main()
