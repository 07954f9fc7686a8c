"""The stdio transport: the server is a child process speaking newline-delimited JSON on its
standard input and output; what it writes on standard error is its log.

The child leads its own process group, so stopping it also stops what it started (``npx`` runs
node, which may run more). A message is bounded (``MAX_MESSAGE``): a server that writes an endless
line is stopped instead of filling lime's memory.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import threading
from collections import deque
from collections.abc import Callable
from typing import Any

from lime.mcp.rpc import McpError, Message

MAX_MESSAGE = 64 << 20
STOP_GRACE = 1.0


class StdioTransport:
    blocking_send = False

    def __init__(self, argv: list[str], *, env: dict[str, str], cwd: str | None,
                 log: Callable[[str], None] | None = None) -> None:
        self.argv = argv
        self.env = env
        self.cwd = cwd
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None
        self.stderr_tail: deque[str] = deque(maxlen=5)
        self._write = threading.Lock()
        self._deliver: Callable[[Message], None] | None = None
        self._closed: Callable[[str], None] | None = None
        self.on_invalid: Callable[[str], None] | None = None
        self.stopping = False

    def start(self, deliver: Callable[[Message], None], closed: Callable[[str], None]) -> None:
        self._deliver, self._closed = deliver, closed
        try:
            self.proc = subprocess.Popen(self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=subprocess.PIPE, env=self.env, cwd=self.cwd,
                                         start_new_session=True, close_fds=True)
        except FileNotFoundError:
            raise McpError(f"command not found: {self.argv[0]}") from None
        except PermissionError:
            raise McpError(f"cannot run {self.argv[0]}: permission denied") from None
        except NotADirectoryError:
            raise McpError(f"cannot run {self.argv[0]}: its working directory is not a directory") from None
        except OSError as exc:
            raise McpError(f"cannot run {self.argv[0]}: {exc.strerror or exc}") from None
        _track(self.proc.pid)
        threading.Thread(target=self._read, daemon=True, name="mcp-stdout").start()
        threading.Thread(target=self._drain, daemon=True, name="mcp-stderr").start()

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    def send(self, message: Message) -> None:
        proc = self.proc
        if proc is None or proc.stdin is None:
            raise McpError("the server is not running")
        data = json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogatepass")
        with self._write:
            try:
                proc.stdin.write(data + b"\n")
                proc.stdin.flush()
            except (BrokenPipeError, ValueError, OSError):
                raise McpError("the server stopped reading its input") from None

    def _read(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None and self._deliver is not None
        out = self.proc.stdout
        reason = "the server closed its output"
        try:
            while True:
                line = out.readline(MAX_MESSAGE + 1)
                if not line:
                    break
                if len(line) > MAX_MESSAGE and not line.endswith(b"\n"):
                    reason = f"the server sent a message larger than {MAX_MESSAGE >> 20} MB; it was stopped"
                    self.stop()
                    break
                line = line.strip()
                if not line:
                    continue
                try:
                    message: Any = json.loads(line)
                except (ValueError, RecursionError):
                    if self.on_invalid is not None:
                        self.on_invalid("a line that is not JSON: " + line[:80].decode("utf-8", "replace"))
                    continue
                self._deliver(message)
        except (OSError, ValueError):
            pass
        code = self._exit_status()
        if code is not None and not self.stopping and reason == "the server closed its output":
            reason = f"the server exited (status {code})" if code >= 0 else f"the server was killed (signal {-code})"
        tail = " | ".join(self.stderr_tail)
        if tail and not self.stopping:
            reason += f": {tail[-300:]}"
        if self._closed is not None:
            self._closed(reason)

    def _exit_status(self) -> int | None:
        assert self.proc is not None
        try:
            return self.proc.wait(0.2)
        except subprocess.TimeoutExpired:
            return None

    def _drain(self) -> None:
        assert self.proc is not None and self.proc.stderr is not None
        with contextlib.suppress(Exception):  # lime may be exiting: the log has nowhere to go
            for raw in iter(lambda: self.proc.stderr.readline(65536), b""):  # type: ignore[union-attr]
                text = raw.decode("utf-8", "replace").rstrip()
                if text:
                    self.stderr_tail.append(text[:200])
                    if self.log is not None:
                        self.log(text[:2000])

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        """Close its input, then SIGTERM and SIGKILL its process group."""
        self.stopping = True
        proc = self.proc
        if proc is None:
            return
        with contextlib.suppress(OSError, ValueError):
            if proc.stdin is not None:
                proc.stdin.close()
        _kill_group(proc)
        _untrack(proc.pid)

    def close(self) -> None:
        self.stop()


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    pgid = proc.pid
    for sig, wait in ((signal.SIGTERM, STOP_GRACE), (signal.SIGKILL, 2.0)):
        with contextlib.suppress(OSError):
            os.killpg(pgid, sig)
        try:
            proc.wait(wait)
            # The leader is gone; children it left in the group still get the signal.
            with contextlib.suppress(OSError):
                os.killpg(pgid, signal.SIGKILL)
            return
        except subprocess.TimeoutExpired:
            continue


# Process groups of running servers: killed when lime exits, also on SIGTERM/SIGHUP.
_groups: set[int] = set()
_groups_lock = threading.Lock()


def _track(pgid: int) -> None:
    with _groups_lock:
        first = not _groups
        _groups.add(pgid)
    if first:
        install_exit_hooks()


def _untrack(pgid: int) -> None:
    with _groups_lock:
        _groups.discard(pgid)


def kill_all() -> None:
    with _groups_lock:
        groups = list(_groups)
        _groups.clear()
    for pgid in groups:
        with contextlib.suppress(OSError):
            os.killpg(pgid, signal.SIGTERM)
    for pgid in groups:
        with contextlib.suppress(OSError):
            os.killpg(pgid, signal.SIGKILL)


_hooked = False


def install_exit_hooks() -> None:
    global _hooked
    if _hooked:
        return
    _hooked = True
    import atexit

    atexit.register(kill_all)
    if threading.current_thread() is not threading.main_thread():
        return
    for sig in (signal.SIGTERM, signal.SIGHUP):
        previous = signal.getsignal(sig)

        def handler(signum: int, frame: Any, previous: Any = previous) -> None:
            kill_all()
            if callable(previous):
                previous(signum, frame)
                return
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)

        with contextlib.suppress(ValueError, OSError):
            signal.signal(sig, handler)
