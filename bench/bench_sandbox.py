"""What the shell sandbox adds to each ``bash`` call, in ms, for each arrangement of its layers:
none, Landlock alone (the fallback), namespaces alone, namespaces + Landlock (the default where
bubblewrap runs), and namespaces + Landlock with network isolation; plus ``lime sandbox``'s
self-test.

Runs ``true`` through the bash tool in a scratch workspace (a ``.git`` directory in it, so the
protected-path mounts are made as in use), with lime's real config home hidden.

Usage: python bench/bench_sandbox.py [calls]
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from lime import config
from lime.runtime import sandboxcheck, shellrun
from lime.runtime.tools import TOOLS, Workspace, run_tool


def per_call(ws: Workspace, calls: int) -> float:
    runs = []
    for _ in range(calls):
        t0 = time.perf_counter()
        result = run_tool(TOOLS["bash"], ws, {"command": "true"})
        runs.append(time.perf_counter() - t0)
        assert result.content == "[exit status 0, no output]", result.content
    return statistics.median(runs) * 1000


def main() -> None:
    calls = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    which = shellrun.layers()
    print(f"sandbox here: {which.summary()}")
    home = config.config_home().expanduser().resolve()
    real_layers = shellrun.layers
    arrangements = [
        ("none", False, lambda: real_layers(False)),
        ("Landlock only", True, lambda: shellrun.Layers("", real_layers().landlock, "measured alone")),
        ("namespaces only", True, lambda: shellrun.Layers(real_layers().namespaces, "", "measured alone")),
        ("namespaces + Landlock", True, lambda: real_layers()),
    ]
    figures: list[tuple[str, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp).resolve()
        (root / ".git").mkdir()
        for name, on, pick in arrangements:
            layer = pick()
            if on and not layer.active:
                print(f"{name:<32} not available here")
                continue
            shellrun.layers = lambda enabled=True, network=False, layer=layer: layer  # type: ignore[assignment]
            try:
                ws = Workspace(root, [], [home], sandbox=on)
                per_call(ws, 5)
                figures.append((name, per_call(ws, calls)))
            finally:
                shellrun.layers = real_layers  # type: ignore[assignment]
        if which.namespaces:
            ws = Workspace(root, [], [home], sandbox=True, isolate_network=True)
            per_call(ws, 5)
            figures.append(("namespaces + Landlock + no network", per_call(ws, calls)))
    bwrap, _why = shellrun.namespaces_available()
    if bwrap:  # what bubblewrap itself costs here, for scale
        argv = [bwrap, "--unshare-user", "--unshare-pid", "--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev",
                "--", shellrun.BASH, "-c", "true"]
        runs = []
        for _ in range(calls):
            t0 = time.perf_counter()
            subprocess.run(argv, check=True)
            runs.append(time.perf_counter() - t0)
        figures.append(("(bare bwrap + bash, no lime)", statistics.median(runs) * 1000))
    base = figures[0][1]
    print(f"bash 'true' through the bash tool, median of {calls} calls:")
    for name, ms in figures:
        print(f"  {name:<36} {ms:6.2f} ms   (+{ms - base:5.2f} ms, {ms / base:4.2f}x)")
    t0 = time.perf_counter()
    lines, ok = sandboxcheck.check(home)
    print(f"lime sandbox self-test: {(time.perf_counter() - t0) * 1000:.0f} ms ({'passed' if ok else 'FAILED'})")
    if not ok:
        print("\n".join(lines))


if __name__ == "__main__":
    main()
