"""What ``lime -p hi`` adds over curl against a local OpenAI-compatible server, with and without
server-reported usage (without it, lime estimates the usage itself).

    python bench/bench_oneshot.py [runs]

The server (tests/support/fakeserver.py, whole response in one write) runs in its own process.
Each command runs ``runs`` times with stdout a pipe, under GNU time; the figures are medians of
wall time, CPU time (user + system) and peak RSS. On a busy machine wall time mostly measures the
neighbours: read the CPU column too. Targets: lime adds at most 0.15 s wall and 40 MiB
peak over curl in both cases.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

KEY = "sk-bench-0000000000000000"
ANSWER = "Hello! How can I help you today?"


def serve() -> None:
    """Server process: print the port, then answer until stdin closes."""
    from support.fakeserver import FakeServer, Recorded, reply

    def respond(req: Recorded) -> object:
        return reply(ANSWER, chunks=8)

    server = FakeServer()
    server.default = respond
    print(server.port, flush=True)
    sys.stdin.read()
    server.close()


TIME = shutil.which("time", path="/usr/bin:/bin")


def curl_rows(base_url: str, key: str, body: str, env: dict[str, str],
              runs: int) -> list[tuple[str, tuple[float, float, float]]]:
    """The baseline: the same streamed Chat Completions request made by curl (no row without curl)."""
    curl = shutil.which("curl")
    if not curl:
        return []
    return [("curl", measure([curl, "-sS", "-N", f"{base_url}/chat/completions", "-H", f"Authorization: Bearer {key}",
                              "-H", "Content-Type: application/json", "-d", body], env, runs))]


def measure(argv: list[str], env: dict[str, str], runs: int, stdin: str | None = None) -> tuple[float, float, float]:
    """Median wall, CPU and peak RSS over ``runs`` runs of ``argv``.

    Peak RSS comes from GNU time, which starts the command from its own small process: the
    rusage of a child forked from this (larger) Python would report this process's size."""
    walls, cpus, peaks = [], [], []
    for _ in range(runs):
        cmd = [TIME, "-f", "@@%e %M", *argv] if TIME else argv
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        out, err_b = proc.communicate(stdin.encode() if stdin is not None else None) if stdin else (
            proc.stdout.read() if proc.stdout else b"", proc.stderr.read() if proc.stderr else b"")
        # CPU from wait4 (microseconds; includes the command GNU time waited for)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - t0
        err = err_b.decode(errors="replace")
        if proc.returncode != 0 or (not out and argv[1:] != ["-c", "pass"]):
            raise SystemExit(f"{argv[0]} failed: {err[-500:]}")
        cpus.append(usage.ru_utime + usage.ru_stime)
        if TIME:
            line = [x for x in err.splitlines() if x.startswith("@@")][-1]
            _, m = line[2:].split()  # GNU time's own wall figure has 10 ms steps: ours is used
            walls.append(wall)
            peaks.append(int(m) / 1024)
        else:
            walls.append(wall)
            peaks.append(float("nan"))
    return statistics.median(walls), statistics.median(cpus), statistics.median(peaks)


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    server = subprocess.Popen([sys.executable, __file__, "--serve"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True)
    assert server.stdout is not None
    port = int(server.stdout.readline())
    base_url = f"http://127.0.0.1:{port}/v1"
    script = Path(sys.executable).with_name("lime")
    lime = [str(script)] if script.exists() else [sys.executable, "-m", "lime"]
    try:
        with tempfile.TemporaryDirectory() as tmp:
            home = Path(tmp) / "home"
            env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY") and not k.startswith("LIME_")}
            env.pop("PYTHONDONTWRITEBYTECODE", None)  # measure lime as pip installs it: bytecode cached
            env.update(LIME_CONFIG_HOME=str(home), LIME_MODELS_FILE=str(Path(tmp) / "models.json"), HOME=tmp,
                       LIME_MAX_RETRIES="0")
            subprocess.run([*lime, "login", "--provider", "openai-compat", "--service", "bench",
                            "--with-api-key", "--with-base-url", base_url], input=KEY + "\n", text=True,
                           env=env, check=True, capture_output=True)
            models = [{"slug": "with-usage", "provider": "openai-compat", "service": "bench", "context_window": 32000,
                       "supports_include_usage": True},
                      {"slug": "no-usage", "provider": "openai-compat", "service": "bench", "context_window": 32000}]
            Path(env["LIME_MODELS_FILE"]).write_text(json.dumps({"models": models}))
            body = json.dumps({"model": "with-usage", "stream": True, "stream_options": {"include_usage": True},
                               "messages": [{"role": "user", "content": "hi"}]})
            rows = curl_rows(base_url, KEY, body, env, runs)
            rows.append(("python -c pass", measure([sys.executable, "-c", "pass"], env, runs)))
            for slug in ("with-usage", "no-usage"):
                measure([*lime, "--model", slug, "-p", "hi"], env, 1)  # warm the bytecode cache
                rows.append((f"lime -p hi ({slug})", measure([*lime, "--model", slug, "-p", "hi"], env, runs)))
            ref = rows[0][1]
            print(f"{'command':<28} {'wall':>9} {'cpu':>9} {'peak RSS':>10}   over {rows[0][0]}")
            for name, (wall, cpu, peak) in rows:
                print(f"{name:<28} {wall * 1000:7.0f}ms {cpu * 1000:7.0f}ms {peak:7.1f}MiB   "
                      f"+{(wall - ref[0]) * 1000:.0f} ms wall, +{peak - ref[2]:.1f} MiB "
                      f"({wall / ref[0]:.1f}x wall)")
    finally:
        assert server.stdin is not None
        server.stdin.close()
        server.wait(timeout=10)


if __name__ == "__main__":
    if sys.argv[1:] == ["--serve"]:
        serve()
    else:
        main()
