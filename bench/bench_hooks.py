"""What hooks cost a tool call: nothing when none are configured, and a hook's own process start
plus a few milliseconds when one is.

    python bench/bench_hooks.py [--calls 200]

Three executors run the same cheap read tool ``--calls`` times: one with no hooks (nothing is
attached: the seams stay empty), one with a hook on another event only (the event-stream
subscriber), one with a PreToolUse hook ``true``. Beside them, ``sh -c true`` started the way
hooks are (process group, deadline, capped pipes, JSON on stdin): the hook's cost minus that is
what lime adds per hook.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=200)
    calls = parser.parse_args().calls

    from lime.providers.openai_compat.types import ToolCall
    from lime.runtime import subproc
    from lime.runtime.events import EventBus
    from lime.runtime.executor import Executor
    from lime.runtime.hooks import Hooks, HookSpec
    from lime.runtime.permissions import Policy
    from lime.runtime.registry import FunctionTool, ToolRegistry
    from lime.runtime.tools import Workspace

    work = Path(tempfile.mkdtemp(prefix="lime-bench-hooks-"))
    tool = FunctionTool("peek", "bench tool", {"type": "object", "properties": {}}, "read", lambda ws, a: "ok")

    def executor(specs: list[HookSpec]) -> Executor:
        ws = Workspace(work)
        bus = EventBus()
        ex = Executor(ToolRegistry([tool]), Policy(mode="bypassPermissions"), ws, bus)
        if specs:
            hooks = Hooks(specs, work)
            bus.subscribe(hooks.handle)
            if hooks.has("PreToolUse"):
                ex.before_tool.append(hooks.pre_tool)
        return ex

    def per_call(ex: Executor, n: int) -> float:
        batch = [ToolCall(f"c{i}", "peek", "{}") for i in range(n)]
        start = time.perf_counter()
        for call in batch:
            ex.run_calls([call], run=True, offered=True)
        return (time.perf_counter() - start) / n * 1e6

    def spec(event: str) -> HookSpec:
        return HookSpec(event, "true", None, 60.0, "user", "bench")

    # The machine is shared: rounds interleave the measurements, and the fastest round of each counts.
    plain, other_ev, hooked = executor([]), executor([spec("SessionEnd")]), executor([spec("PreToolUse")])
    hooked_n = max(10, calls // 10)
    payload = json.dumps({"event": "PreToolUse", "tool_input": {}}).encode()
    from lime.runtime.shellrun import child_env

    env = child_env([])

    def bare_start(n: int) -> float:
        start = time.perf_counter()
        for _ in range(n):
            subproc.run(["/bin/sh", "-c", "true"], cwd=str(work), env=env, timeout=60, keep=16_000,
                        limit=4_000_000, merge_stderr=False, stdin=payload)
        return (time.perf_counter() - start) / n * 1e6

    rounds = [(per_call(plain, calls), per_call(other_ev, calls), per_call(hooked, hooked_n), bare_start(hooked_n))
              for _ in range(5)]
    none, other, one, bare = (min(r[i] for r in rounds) for i in range(4))
    print(f"tool call, no hooks configured:        {none:9.1f} µs  (no seam attached)")
    print(f"tool call, a hook on another event:    {other:9.1f} µs  ({other / none:.2f}x)")
    print(f"tool call, one PreToolUse hook `true`: {one:9.1f} µs")
    print(f"  `sh -c true` started alone:          {bare:9.1f} µs  (fastest of 5 rounds each)")
    print(f"  lime's own cost per hook:            {(one - none - bare) / 1000:9.2f} ms  (budget: 5 ms)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
