"""What checking one ``bash`` call against the permission rules costs, next to tree-sitter's bare
parse of the same line (the floor) and to starting the ``bash`` that runs it (what it is added to).

Cases: a short command, a pipeline of allowed commands, a heredoc, deny rules against respelled
programs, and a 10 KB line. Printed: microseconds per check and the ratio to the bare parse.

Usage: python bench/bench_bashcheck.py [repeats]
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from lime.runtime import settings as settings_mod
from lime.runtime.bashcheck import _parser, analyse
from lime.runtime.permissions import Policy
from lime.runtime.tools import TOOLS, Workspace

CASES = {
    "short": "git status --short",
    "pipeline": "git diff --stat | sort -k2 | head -20 && ls -la src > listing.txt 2>&1",
    "heredoc": "cat <<'EOF' > notes.md\n" + "line with `ticks` and $(parens)\n" * 20 + "EOF",
    "respelled": "sudo -u root nice -n 5 /bin/r''m -rf build; sh -c 'r\\m -f x'; find . -exec rm {} ;",
    "10KB": " && ".join(f"echo 'item {i}' >> out.txt" for i in range(400)),
}


def per_call(fn: Callable[[], object], repeats: int) -> float:
    fn()
    times = []
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(repeats):
            fn()
        times.append((time.perf_counter() - t0) / repeats)
    return statistics.median(times) * 1e6


def main() -> None:
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    s = settings_mod.Settings()
    s.rules["allow"] = [settings_mod.RawRule(t, "user", "bench") for t in
                        ("Bash(git status:*)", "Bash(git diff:*)", "Bash(ls:*)", "Bash(sort:*)", "Bash(echo:*)",
                         "Bash(head:*)", "Bash(cat:*)")]
    s.rules["deny"] = [settings_mod.RawRule("Bash(rm:*)", "user", "bench")]
    policy = Policy.from_args("default", False, [], s)
    bash = TOOLS["bash"]
    with tempfile.TemporaryDirectory() as tmp:
        ws = Workspace(Path(tmp).resolve())
        cwd = str(ws.cwd)
        parser = _parser()
        print(f"{'case':10} {'bytes':>6} {'parse µs':>9} {'analyse µs':>11} {'check µs':>9} {'check/parse':>12}  decision")
        for name, cmd in CASES.items():
            src = cmd.encode()
            parse = per_call(lambda src=src: parser.parse(src), repeats)  # type: ignore[misc]
            full = per_call(lambda cmd=cmd: analyse(cmd, cwd, lambda p: True), repeats)  # type: ignore[misc]
            check = per_call(lambda cmd=cmd: policy.check(bash, {"command": cmd}, ws), repeats)  # type: ignore[misc]
            decision = policy.check(bash, {"command": cmd}, ws).decision
            print(f"{name:10} {len(src):6} {parse:9.0f} {full:11.0f} {check:9.0f} {check / parse:11.1f}x  {decision}")
        start = per_call(lambda: subprocess.run(["bash", "-c", "true"], check=False), max(5, repeats // 20))
        print(f"\nstarting bash -c true: {start:.0f} µs; a short check is "
              f"{per_call(lambda: policy.check(bash, {'command': CASES['short']}, ws), repeats) / start:.1%} of it")


if __name__ == "__main__":
    main()
