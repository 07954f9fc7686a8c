"""Start, find, reuse and stop lime's background llama.cpp server.

One server per config home. Its state file (``local/server.json``, mode 0600) is written by the
server process itself once it listens, and removed by it when it exits, so a file on disk means
"a server said it was ready". Nothing trusts the file alone: a server counts as live only when
its pid is alive, is a lime server process, and its ``/health`` answers. Anything else is stale
and is cleaned up, never obeyed. Starting happens under a lock, so two ``lime`` processes that
both find no server end up sharing one.

This module stays light (no httpx, no xllamacpp): ``lime local status`` must be quick.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import secrets
import select
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lime import config
from lime.errors import LimeError
from lime.local import paths
from lime.storage import atomic_write_json, locked

if TYPE_CHECKING:
    from lime.providers.openai_compat.discovery import Discovery

STATE_NAME = "server.json"
ACTIVITY_NAME = "activity"
LOG_NAME = "server.log"
# Loading a large GGUF can take a while; the 135M model is ready in under a second.
START_TIMEOUT = 120.0
HEALTH_TIMEOUT = 2.0
STOP_TIMEOUT = 10.0


class LocalServerError(LimeError):
    """The local server could not be started or reached."""


def state_path() -> Path:
    return config.local_dir() / STATE_NAME


def activity_path() -> Path:
    return config.local_dir() / ACTIVITY_NAME


def log_path() -> Path:
    return config.local_dir() / LOG_NAME


@dataclass(frozen=True)
class ServerInfo:
    pid: int
    port: int
    api_key: str = field(repr=False)
    model: Path
    alias: str
    n_ctx: int
    started_at: float
    ready_at: float
    idle_timeout: float = 0.0
    discovery: Discovery | None = None
    reused: bool = False

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def start_seconds(self) -> float:
        return max(0.0, self.ready_at - self.started_at)


@dataclass(frozen=True)
class ServerStatus:
    info: ServerInfo
    uptime: float
    rss_bytes: int | None


# --- state file --------------------------------------------------------------------------------

def read_state() -> dict[str, Any] | None:
    """The raw state, or None if absent or unreadable (a broken file is stale, not an error)."""
    try:
        data = json.loads(state_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def write_state(data: dict[str, Any]) -> None:
    atomic_write_json(state_path(), data, mode=0o600)


def remove_state(only_pid: int | None = None) -> None:
    """Delete the state file; with ``only_pid``, only if it still describes that process."""
    if only_pid is not None:
        state = read_state()
        if state is None or state.get("pid") != only_pid:
            return
    with contextlib.suppress(FileNotFoundError):
        state_path().unlink()


def info_from_state(state: dict[str, Any]) -> ServerInfo | None:
    try:
        pid, port, key = state["pid"], state["port"], state["api_key"]
        if not (isinstance(pid, int) and isinstance(port, int) and isinstance(key, str) and key):
            return None
        discovery = None
        if state.get("discovery") is not None:
            from lime.providers.openai_compat.discovery import Discovery

            discovery = Discovery.from_json(state["discovery"])
        return ServerInfo(
            pid=pid, port=port, api_key=key, model=Path(str(state["model"])), alias=str(state["alias"]),
            n_ctx=int(state["n_ctx"]), started_at=float(state["started_at"]), ready_at=float(state["ready_at"]),
            idle_timeout=float(state.get("idle_timeout", 0.0)), discovery=discovery,
        )
    except (KeyError, TypeError, ValueError):
        return None


def touch_activity() -> None:
    """Tell the server someone is using it (it exits after ``LIME_LOCAL_IDLE_TIMEOUT`` without use)."""
    path = activity_path()
    try:
        path.touch(mode=0o600)
        os.utime(path)
    except OSError:
        pass


def clients_dir() -> Path:
    return config.local_dir() / "clients"


def _start_ticks(pid: int) -> str | None:
    """The process's start time in clock ticks since boot: with the pid, it names one process for good."""
    try:
        stat = (Path("/proc") / str(pid) / "stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rfind(")") + 2:].split()
    return fields[19] if len(fields) > 19 else None


def register_client(pid: int | None = None) -> None:
    """Keep the server up while this process lives (a REPL may sit idle longer than the idle timeout).

    A lease is a file named after the pid holding its start time; the server ignores, and removes,
    leases whose process is gone or whose pid now belongs to another process.
    """
    pid = os.getpid() if pid is None else pid
    ticks = _start_ticks(pid)
    if ticks is None:
        return
    live_clients()  # prune: with no idle timeout the server never does
    try:
        clients_dir().mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(clients_dir() / str(pid), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(ticks)
    except OSError:
        pass


def live_clients() -> list[int]:
    """pids holding a lease; stale leases are deleted on the way."""
    alive: list[int] = []
    try:
        leases = list(clients_dir().iterdir())
    except OSError:
        return alive
    for lease in leases:
        try:
            pid = int(lease.name)
            ticks = lease.read_text().strip()
        except (ValueError, OSError):
            ticks, pid = "", -1
        if pid > 0 and ticks and _start_ticks(pid) == ticks:
            alive.append(pid)
        else:
            with contextlib.suppress(OSError):
                lease.unlink()
    return alive


# --- process probes ----------------------------------------------------------------------------

def pid_alive(pid: int) -> bool:
    """True for a running (not zombie) lime server process; a recycled pid does not count."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return False  # someone else's process: not a server we started
    proc = Path("/proc") / str(pid)
    try:
        stat = (proc / "stat").read_text()
        if stat[stat.rfind(")") + 2:][:1] in ("Z", "X"):
            return False
        cmdline = (proc / "cmdline").read_bytes()
    except FileNotFoundError:
        return False
    except OSError:
        return True  # no /proc here: trust kill(0)
    return b"lime.local" in cmdline and b"serve" in cmdline


def healthy(port: int, timeout: float = HEALTH_TIMEOUT) -> bool:
    """llama.cpp's ``/health``: 200 ``{"status":"ok"}`` once the model is loaded; needs no key."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", "/health")
        resp = conn.getresponse()
        body = resp.read()
        if resp.status != 200:
            return False
        data = json.loads(body)
        return isinstance(data, dict) and data.get("status") == "ok"
    except (OSError, ValueError, http.client.HTTPException):
        return False
    finally:
        conn.close()


def rss_bytes(pid: int) -> int | None:
    try:
        for line in (Path("/proc") / str(pid) / "status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def live_server(state: dict[str, Any] | None = None) -> ServerInfo | None:
    """The server the state file describes, if it really is up."""
    state = read_state() if state is None else state
    info = info_from_state(state) if state else None
    if info is None or not pid_alive(info.pid) or not healthy(info.port):
        return None
    return info


def exited(pid: int) -> bool:
    """True once every thread of ``pid`` has finished.

    A zombie thread-group leader is not enough: when the server exits, its main thread turns
    zombie while llama.cpp's worker threads are still tearing down (measured: ~0.3 s, holding the
    model's memory), so each task of the process is checked.
    """
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except FileNotFoundError:
        return True
    except OSError:
        return not pid_alive(pid)  # no /proc here
    for task in tasks:
        try:
            stat = Path(f"/proc/{pid}/task/{task}/stat").read_text()
        except OSError:
            continue  # that thread is gone
        if stat[stat.rfind(")") + 2:][:1] not in ("Z", "X"):
            return False
    return True


def terminate(pid: int, timeout: float | None = None) -> bool:
    """SIGTERM, then SIGKILL after ``timeout`` (default STOP_TIMEOUT) seconds; returns once the process
    has exited: True when it had to be killed."""
    grace = STOP_TIMEOUT if timeout is None else timeout
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 10.0)):
        try:
            os.kill(pid, sig)
            if sig == signal.SIGTERM:
                os.kill(pid, signal.SIGCONT)  # a stopped (hung) server must run to handle it
        except ProcessLookupError:
            return sig == signal.SIGKILL
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if exited(pid):
                return sig == signal.SIGKILL
            time.sleep(0.02)
    return True


# --- start / reuse -----------------------------------------------------------------------------

def _threads() -> int:
    """Half the cores (at most 4), so generation never competes with the rest of the machine.

    llama.cpp's worker threads spin while they wait for each other: with as many threads as cores
    and one other busy process, generation on a 2-core machine fell from ~150 tokens/s to a stall
    (measured), while one thread kept ~130 tokens/s under the same load.
    """
    configured = config.local_threads()
    if configured:
        return configured
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count() or 1
    return max(1, min(4, cores // 2))


def _matches(info: ServerInfo, model: Path | None, ctx: int | None) -> bool:
    return (model is None or info.model == model) and (ctx is None or info.n_ctx == ctx)


def ensure_server(gguf: Path | None = None) -> ServerInfo:
    """A live local server: the running one if it fits, else a fresh one started in the background.

    ``gguf`` (or ``LIME_LOCAL_MODEL``) pins the model: a server running another one is replaced.
    Without either, whatever model the running server has is fine (``lime local start --gguf``
    sticks), and a new server gets the model the ``local`` extra ships.
    """
    wanted: Path | None = None
    if gguf is not None:
        wanted = paths.require_local(gguf)
    elif config.local_model_env():
        wanted = paths.require_local()
    ctx = config.local_ctx_env()

    seen = read_state()
    info = live_server(seen) if seen else None
    if info is not None and _matches(info, wanted, ctx):
        touch_activity()
        return replace(info, reused=True)

    config.ensure_home()
    config.local_dir().mkdir(mode=0o700, exist_ok=True)
    with locked(state_path(), timeout=START_TIMEOUT + 30):
        state = read_state()
        # Probe again only if another process changed the state meanwhile (a hung server costs
        # a health timeout per probe).
        if state != seen:
            info = live_server(state) if state else None
        if info is not None and _matches(info, wanted, ctx):
            touch_activity()
            return replace(info, reused=True)
        stale = info_from_state(state) if state else None
        if stale is not None and pid_alive(stale.pid):
            terminate(stale.pid)  # hung, or serving another model
        if state is not None:
            remove_state()
        model = wanted or paths.require_local()
        info = _start(model, ctx or config.local_ctx())
        info = _discover_into_state(info)
        touch_activity()
        return info


def _read_handshake(fd: int, deadline: float) -> list[str]:
    """Lines the server writes on its stdout pipe: ``pid N``, then ``ready PORT`` (or EOF on failure)."""
    buf = b""
    lines: list[str] = []
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return lines
        ready, _, _ = select.select([fd], [], [], remaining)
        if not ready:
            return lines
        chunk = os.read(fd, 4096)
        if not chunk:
            return lines
        buf += chunk
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            lines.append(line.decode("utf-8", "replace").strip())
            if lines[-1].startswith(("ready", "error")):
                return lines


def _log_reason(path: Path) -> str:
    """The last error line the server logged, for a one-line message."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "no log"
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    errors = [ln for ln in lines if " E " in ln or "error" in ln.lower()]
    pick = (errors or lines or ["no output"])[-1]
    return pick[:300]


def _start(model: Path, ctx: int) -> ServerInfo:
    local = config.local_dir()
    key = secrets.token_urlsafe(32)
    idle = config.local_idle_timeout()
    log = log_path()
    log_fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    cmd = [
        sys.executable, "-m", "lime.local", "serve",
        "--model", str(model), "--ctx", str(ctx), "--threads", str(_threads()),
        "--alias", paths.alias_for(model), "--state-dir", str(local), "--idle-timeout", repr(idle),
    ]
    pid: int | None = None
    try:
        # The key goes over a pipe, never argv. The launcher forks the real server and exits, so the
        # server is nobody's child (no zombie when it stops) and lives in its own session.
        proc = subprocess.Popen(
            cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log_fd,
            start_new_session=True, close_fds=True, cwd=str(local),
        )
    finally:
        os.close(log_fd)
    assert proc.stdin is not None and proc.stdout is not None
    try:
        try:
            proc.stdin.write(key.encode() + b"\n")
            proc.stdin.close()
        except BrokenPipeError:
            pass
        lines = _read_handshake(proc.stdout.fileno(), time.monotonic() + START_TIMEOUT)
        proc.stdout.close()
        proc.wait(timeout=10)
        for line in lines:
            if line.startswith("pid "):
                pid = int(line.split()[1])
        ready = bool(lines) and lines[-1].startswith("ready")
        if not ready:
            if pid is not None and pid_alive(pid):
                terminate(pid)
            detail = lines[-1][6:] if lines and lines[-1].startswith("error") else _log_reason(log)
            raise LocalServerError(f"the local server did not start: {detail} (log: {log})")
        info = info_from_state(read_state() or {})
        if info is None or info.pid != pid:
            if pid is not None:
                terminate(pid)
            raise LocalServerError(f"the local server started but wrote no usable state (log: {log})")
        return info
    except BaseException:
        if pid is not None and pid_alive(pid):
            terminate(pid)
            remove_state(only_pid=pid)
        raise


def _discover_into_state(info: ServerInfo) -> ServerInfo:
    """Ask the fresh server for its window and template capabilities once, and keep the answer."""
    from lime.providers.openai_compat.discovery import discover

    found = discover(info.base_url, info.api_key, model=info.alias)
    if found is None:
        return info
    cache_discovery(info, found)
    return replace(info, discovery=found)


def cache_discovery(info: ServerInfo, found: Discovery) -> None:
    state = read_state()
    if state is None or state.get("pid") != info.pid:
        return
    state["discovery"] = found.to_json()
    write_state(state)


# --- stop / status -----------------------------------------------------------------------------

def stop() -> int | None:
    """Stop the server if one runs; the pid it had, or None. Stale state is removed either way."""
    stopped = stop_server()
    return stopped[0] if stopped else None


def stop_server() -> tuple[int, bool] | None:
    """Stop the server if one runs and return once it has exited: (its pid, whether it had to be
    killed after the grace period), or None when none ran."""
    path = state_path()
    if not path.exists():
        return None
    with locked(path):
        state = read_state()
        if state is None:
            remove_state()
            return None
        info = info_from_state(state)
        pid = info.pid if info else None
        was_running = pid is not None and pid_alive(pid)
        killed = terminate(pid) if was_running and pid is not None else False
        remove_state()
        return (pid, killed) if was_running and pid is not None else None


def status() -> ServerStatus | None:
    """What runs now (model, port, pid, uptime, RSS), or None; a stale state file is cleaned up."""
    state = read_state()
    if state is None:
        return None
    info = live_server(state)
    if info is None:
        with locked(state_path()):
            again = read_state()
            info = live_server(again) if again is not None and again != state else None
            stale = info_from_state(again) if again is not None and info is None else None
            if again is not None and info is None and (stale is None or not pid_alive(stale.pid)):
                remove_state()  # a hung server keeps its file: the next start terminates it
        if info is None:
            return None
    return ServerStatus(info=info, uptime=max(0.0, time.time() - info.ready_at), rss_bytes=rss_bytes(info.pid))
