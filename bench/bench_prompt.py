"""What assembling the system prompt costs at session start: the environment block (git branch and
changes read from ``.git``, no git process), user memory, AGENTS files and the layers, for this
repository's checkout and for a generated repository with many tracked files; and, for scale,
what running ``git status`` would cost instead.

    python bench/bench_prompt.py [runs]

Target: assembly (environment included) at most 10 ms.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from lime.runtime import gitinfo, project, prompt  # noqa: E402
from lime.runtime.tools import TOOLS  # noqa: E402


def median_ms(fn, runs: int, clock=time.perf_counter) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(runs):
        t0 = clock()
        fn()
        times.append(clock() - t0)
    return statistics.median(times) * 1000


def cpu_ms(fn, runs: int) -> float:  # type: ignore[no-untyped-def]
    """CPU time of this process: on a busy machine wall time mostly measures the neighbours."""
    return median_ms(fn, runs, time.process_time)


def assemble(cwd: Path) -> str:
    here = project.discover(cwd)
    env = prompt.environment(here, mode="default", sandbox="on")
    inputs = prompt.Inputs(here, True, prompt.memory_path(), "Be brief.", env)
    return prompt.assemble(inputs, tools=[t.spec() for t in TOOLS.values()], window=128_000).text


def big_repo(base: Path, files: int) -> Path:
    repo = base / "big"
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    for i in range(files):
        d = repo / f"pkg{i % 50}"
        d.mkdir(exist_ok=True)
        (d / f"m{i}.py").write_text(f"x = {i}\n")
    (repo / "AGENTS.md").write_text("# Rules\n" + "- keep it small\n" * 200)
    subprocess.run(["git", "-C", str(repo), "add", "-A"], check=True)
    return repo


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        targets = [("this checkout", ROOT)]
        if shutil.which("git"):
            targets.append(("5,000 tracked files", big_repo(Path(tmp), 5000)))
        for name, where in targets:
            assemble(where)  # warm the file cache, as a second session would find it
            total = median_ms(lambda w=where: assemble(w), runs)  # type: ignore[misc]
            total_cpu = cpu_ms(lambda w=where: assemble(w), runs)  # type: ignore[misc]
            state = median_ms(lambda w=where: gitinfo.state(project.discover(w).root), runs)  # type: ignore[misc]
            spawn = None
            if shutil.which("git"):
                spawn = median_ms(lambda w=where: subprocess.run(  # type: ignore[misc]
                    ["git", "-C", str(w), "status", "--porcelain", "-b"], capture_output=True), max(5, runs // 5))
            size = len(assemble(where).encode("utf-8"))
            rows.append((name, total, total_cpu, state, spawn, size))
    print(f"{'repository':<22} {'assemble':>10} {'(CPU)':>10} {'git state':>10} {'git status':>11} {'prompt':>9}")
    for name, total, total_cpu, state, spawn, size in rows:
        spawned = f"{spawn:8.2f} ms" if spawn is not None else "       n/a"
        print(f"{name:<22} {total:7.2f} ms {total_cpu:7.2f} ms {state:7.2f} ms {spawned:>11} {size:>7,} B")
    worst = max(r[2] for r in rows)
    print(f"target: assembly <= 10 ms CPU: {'met' if worst <= 10 else 'NOT met'} (worst {worst:.2f} ms; "
          "wall time on a busy machine is mostly waiting for a core)")


if __name__ == "__main__":
    main()
