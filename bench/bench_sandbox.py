"""What the Landlock sandbox adds to each ``bash`` call, in ms (and as a ratio to the call itself).

Runs ``true`` through the bash tool with the sandbox on and off, in a scratch workspace, with
lime's real config home hidden (so the ruleset walks its real ancestors, as in use).

Usage: python bench/bench_sandbox.py [calls]
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

from lime import config
from lime.runtime import sandbox
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
    calls = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    print(f"sandbox: {sandbox.describe()}")
    home = config.config_home().expanduser().resolve()
    with tempfile.TemporaryDirectory() as tmp:
        on = Workspace(Path(tmp).resolve(), [], [home], sandbox=True)
        off = Workspace(Path(tmp).resolve(), [], [home], sandbox=False)
        per_call(on, 5)
        per_call(off, 5)
        t_off, t_on = per_call(off, calls), per_call(on, calls)
        with sandbox.shell(on) as _:
            pass
        rules = 0
        abi, _why = sandbox.landlock_abi()
        if abi:
            rs = sandbox._new_ruleset(abi)
            rs.grant(Path("/"), sandbox.READ, [home])
            rules = rs.rules
    print(f"bash 'true', median of {calls}: {t_off:.2f} ms without the sandbox, {t_on:.2f} ms with it "
          f"({rules}+ Landlock rules)")
    print(f"sandbox cost per command: {t_on - t_off:.2f} ms (ratio with/without {t_on / t_off:.2f}x)")


if __name__ == "__main__":
    main()
