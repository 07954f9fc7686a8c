"""The background server process: ``python -m lime.local serve ...``.

Reads the API key from stdin (never argv), forks so that it belongs to no ``lime`` process,
starts llama.cpp's own HTTP server through ``xllamacpp``, writes the state file, tells the
starter ``ready PORT`` on the stdout pipe, then waits. It exits on SIGTERM/SIGINT/SIGHUP or
after ``--idle-timeout`` seconds without use, removing its state file first so nobody tries to
reuse a server that is going away.

Idle means: the server's own counters (tokens processed, decode calls, requests in flight) have
not moved, no ``lime`` process has touched the activity file, and no process that holds a lease
(a REPL, a library user) is still running, for the whole period. Health and status probes count
as none of these, so ``lime local status`` does not keep a server alive.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

from lime.local import manager

SHUTDOWN_GRACE = 2  # seconds
STOP_SIGNALS = {signal.SIGTERM, signal.SIGINT, signal.SIGHUP}

# Counters that move whenever the server does work for a request.
_WORK_COUNTERS = ("llamacpp:prompt_tokens_total", "llamacpp:tokens_predicted_total", "llamacpp:n_decode_total",
                  "llamacpp:prompt_tokens_cached_total")
_BUSY_GAUGES = ("llamacpp:requests_processing", "llamacpp:requests_deferred")


def parse_metrics(text: Any) -> tuple[tuple[float, ...], bool] | None:
    """(work counters, busy now) from llama.cpp's Prometheus text, or None if it is not that."""
    if not isinstance(text, str):
        return None
    values: dict[str, float] = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        name, _, value = line.partition(" ")
        try:
            values[name] = float(value)
        except ValueError:
            continue
    if not any(name in values for name in _WORK_COUNTERS):
        return None
    counters = tuple(values.get(name, 0.0) for name in _WORK_COUNTERS)
    busy = any(values.get(name, 0.0) > 0 for name in _BUSY_GAUGES)
    return counters, busy


class IdleClock:
    """When the server was last used, from its counters and the clients' activity file."""

    def __init__(self, activity_file: Path, now: float) -> None:
        self.activity_file = activity_file
        self.last_use = now
        self.last_counters: tuple[float, ...] | None = None

    def observe(self, metrics_text: Any, now: float) -> None:
        parsed = parse_metrics(metrics_text)
        if parsed is not None:
            counters, busy = parsed
            if busy or (self.last_counters is not None and counters != self.last_counters):
                self.last_use = now
            self.last_counters = counters
        with contextlib.suppress(OSError):
            self.last_use = max(self.last_use, self.activity_file.stat().st_mtime)
        if manager.live_clients():
            self.last_use = now

    def idle_for(self, now: float) -> float:
        return max(0.0, now - self.last_use)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m lime.local serve")
    p.add_argument("--model", required=True)
    p.add_argument("--ctx", type=int, required=True)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--alias", required=True)
    p.add_argument("--state-dir", required=True)
    p.add_argument("--idle-timeout", type=float, default=0.0, help="seconds; 0 = never")
    p.add_argument("--chat-template", help="file with a Jinja chat template to use instead of the model's")
    p.add_argument("--foreground", action="store_true", help="do not fork (for debugging)")
    return p


def _say(line: str) -> None:
    with contextlib.suppress(OSError):
        os.write(1, (line + "\n").encode())


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    key = sys.stdin.readline().strip()
    if not key:
        print("serve: no API key on stdin", file=sys.stderr)
        return 2
    if not args.foreground:
        if os.fork() > 0:
            os._exit(0)  # the starter reaps this launcher at once; the server lives on below
        os.setsid()
    signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)  # before any thread starts: see _wait
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    os.environ["LIME_CONFIG_HOME"] = str(Path(args.state_dir).parent)
    _say(f"pid {os.getpid()}")
    started_at = time.time()
    try:
        server = _start_server(args, key)
    except Exception as exc:  # xllamacpp raises RuntimeError with a generic text; its log says more
        print(f"serve: {exc}", file=sys.stderr)
        _say(f"error {manager._log_reason(manager.log_path())}")
        return 1
    port = int(str(server.listening_address).rsplit(":", 1)[1])
    ready_at = time.time()
    manager.write_state({
        "pid": os.getpid(), "port": port, "api_key": key, "model": str(Path(args.model).resolve()),
        "alias": args.alias, "n_ctx": args.ctx, "threads": args.threads,
        "started_at": started_at, "ready_at": ready_at, "idle_timeout": args.idle_timeout,
    })
    _say(f"ready {port}")
    os.dup2(2, 1)  # close the starter's pipe: later output goes to the log
    print(f"serve: listening on 127.0.0.1:{port}, model {args.model}, n_ctx {args.ctx}, "
          f"ready in {ready_at - started_at:.2f}s", file=sys.stderr, flush=True)
    reason = _wait(server, args.idle_timeout)
    manager.remove_state(only_pid=os.getpid())
    print(f"serve: stopping ({reason})", file=sys.stderr, flush=True)
    # llama.cpp's shutdown waits for its HTTP threads, holding the GIL; one stuck on a dead client
    # must not keep the process (and its 200 MB) alive. The kernel's default SIGALRM action ends
    # it whatever the interpreter is doing; nothing needs flushing.
    signal.signal(signal.SIGALRM, signal.SIG_DFL)
    signal.alarm(SHUTDOWN_GRACE)
    del server
    return 0


def _start_server(args: argparse.Namespace, key: str) -> Any:
    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path = args.model
    params.model_alias = {args.alias}
    params.n_ctx = args.ctx
    params.n_parallel = 1  # one slot: the whole window is one conversation's
    params.port = 0  # the kernel picks a free port: no race with other programs
    params.cpuparams.n_threads = args.threads
    params.cpuparams_batch.n_threads = args.threads
    params.api_keys = [key]
    params.endpoint_metrics = True  # read in-process to measure idleness
    params.ui = False
    params.offline = True  # never reach a model hub
    params.verbosity = 2  # warnings and errors only
    params.cache_ram_mib = 256
    if args.chat_template:
        params.chat_template = Path(args.chat_template).read_text(encoding="utf-8")
    return xllamacpp.Server(params)


def _wait(server: Any, idle_timeout: float) -> str:
    """Until a stop signal or the idle timeout; returns why.

    The stop signals are blocked in every thread (llama.cpp's threads inherit the mask) and
    taken here with sigtimedwait, so one is never delivered to a C++ thread while the main
    thread sleeps on, as a Python-level handler would allow.
    """
    clock = IdleClock(manager.activity_path(), time.time())
    poll = 30.0 if idle_timeout <= 0 else max(0.2, min(30.0, idle_timeout / 10))
    while True:
        got = signal.sigtimedwait(STOP_SIGNALS, poll)
        if got is not None:
            return signal.Signals(got.si_signo).name
        if idle_timeout <= 0:
            continue
        now = time.time()
        try:
            metrics = server.handle_metrics()
        except Exception:
            metrics = None
        clock.observe(metrics, now)
        if clock.idle_for(now) >= idle_timeout:
            return f"idle for {clock.idle_for(now):.0f}s"
