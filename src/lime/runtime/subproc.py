"""Run a tool's child process with a deadline and an output cap, and leave nothing behind.

The child leads its own process group. When its time is up, when it floods its output, or as
soon as the main process ends, the whole group is killed: lime never waits on a pipe a
background child keeps open (``sleep 60 & echo started`` returns at once), and no child of a
call outlives it (nor lime, which kills the groups still running when it exits). A child that
left the group (``setsid``) is caught only by the shell sandbox's pid namespace.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

_LINGER = 0.05  # seconds background children get to finish writing once the command has ended
_running: set[int] = set()
_lock = threading.Lock()


def _kill(pgid: int) -> None:
    with contextlib.suppress(OSError):
        os.killpg(pgid, signal.SIGKILL)


@atexit.register
def kill_all() -> None:
    """Kill every process group a tool started that is still running (lime is exiting)."""
    with _lock:
        groups = list(_running)
    for pgid in groups:
        _kill(pgid)


def _on_signal(signum: int, _frame: object) -> None:
    kill_all()
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


def _cleanup_on_signals() -> None:
    """SIGTERM or SIGHUP would end lime without running atexit: kill the groups first, then die as asked."""
    if threading.current_thread() is not threading.main_thread():
        return
    for sig in (signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(sig) == signal.SIG_DFL:
            signal.signal(sig, _on_signal)


@dataclass
class Outcome:
    head: bytes
    tail: bytes
    total: int
    returncode: int | None
    timed_out: bool = False
    flooded: bool = False
    # The main process ended but something it started kept the output open until the deadline.
    lingered: bool = False
    stderr: bytes = b""

    def text(self, omitted_note: bool = True) -> str:
        if self.total <= len(self.head) + len(self.tail):
            return (self.head + self.tail).decode("utf-8", errors="replace")
        gap = self.total - len(self.head) - len(self.tail)
        middle = f"\n... [{gap} bytes omitted] ...\n" if omitted_note else ""
        return self.head.decode("utf-8", errors="replace") + middle + self.tail.decode("utf-8", errors="replace")


def _drain(stream: Any, keep: int, limit: int, pgid: int, out: dict[str, Any]) -> None:
    """Read a child's output keeping only its head and tail, killing the group past ``limit`` bytes."""
    head = bytearray()
    tail = bytearray()
    total = 0
    try:
        while True:
            chunk = stream.read1(65536)
            if not chunk:
                break
            total += len(chunk)
            if len(head) < keep:
                take = chunk[: keep - len(head)]
                head += take
                chunk = chunk[len(take):]
            tail += chunk
            if len(tail) > keep:
                del tail[: len(tail) - keep]
            if total > limit and not out.get("flooded"):
                out["flooded"] = True
                _kill(pgid)
    except (OSError, ValueError):
        pass
    out.update(head=bytes(head), tail=bytes(tail), total=total)


def _feed(stream: Any, data: bytes) -> None:
    with contextlib.suppress(OSError, ValueError):
        try:
            stream.write(data)
        finally:
            stream.close()


def run(argv: list[str], *, cwd: str, env: dict[str, str] | None, timeout: float, keep: int, limit: int,
        merge_stderr: bool = True, preexec: Callable[[], None] | None = None,
        pass_fds: tuple[int, ...] = (), stdin: bytes | None = None) -> Outcome:
    """Run ``argv`` to completion or its deadline; stdout is captured, stderr with it or apart;
    ``stdin`` is written to the child (which need not read it)."""
    _cleanup_on_signals()
    deadline = time.monotonic() + timeout
    proc = subprocess.Popen(
        argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL if stdin is None else subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT if merge_stderr else subprocess.PIPE, start_new_session=True,
        preexec_fn=preexec, pass_fds=pass_fds,
    )
    pgid = proc.pid
    with _lock:
        _running.add(pgid)
    if stdin is not None:
        threading.Thread(target=_feed, args=(proc.stdin, stdin), daemon=True).start()
    out: dict[str, Any] = {}
    errs: dict[str, Any] = {}
    reader = threading.Thread(target=_drain, args=(proc.stdout, keep, limit, pgid, out), daemon=True)
    reader.start()
    err_reader = None
    if proc.stderr is not None:
        err_reader = threading.Thread(target=_drain, args=(proc.stderr, 4000, 1 << 62, pgid, errs), daemon=True)
        err_reader.start()
    timed_out = lingered = False
    # A blocking wait in a thread: Popen.wait(timeout) polls with sleeps of up to 50 ms, which
    # would be most of a short command's cost.
    ended = threading.Event()

    def wait() -> None:
        proc.wait()
        ended.set()

    threading.Thread(target=wait, daemon=True).start()
    try:
        timed_out = not ended.wait(timeout=max(0.0, deadline - time.monotonic()))
        if not timed_out:
            # Background children may hold the pipe open: a moment to flush, then they are killed.
            reader.join(timeout=min(_LINGER, max(0.0, deadline - time.monotonic())))
            lingered = reader.is_alive()
    finally:
        _kill(pgid)
        proc.wait()
        with _lock:
            _running.discard(pgid)
        reader.join(timeout=5)
        if err_reader is not None:
            err_reader.join(timeout=5)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
    return Outcome(out.get("head", b""), out.get("tail", b""), int(out.get("total", 0)),
                   None if timed_out else proc.returncode, timed_out, bool(out.get("flooded")), lingered,
                   errs.get("head", b""))
