"""Start on demand, reuse, one server for concurrent starters, recovery after kill -9, stale
files, idle exit, model switch, stop; and the key stays out of argv, logs and output."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lime.catalog.entries import default_auto_compact
from lime.catalog.routing import resolve_route
from lime.local import manager, paths
from lime.local.connect import activate

from .conftest import clean_env

ENSURE = ("from lime.local import manager; i = manager.ensure_server(); "
          "print(i.pid, i.port, int(i.reused), flush=True)")


def _servers_for(home: Path) -> list[int]:
    """pids of lime server processes whose state dir is in ``home``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmd = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"lime.local" in cmd and b"serve" in cmd and str(home / "local").encode() in cmd and manager.pid_alive(int(entry.name)):
            found.append(int(entry.name))
    return found


def test_start_on_demand_then_reuse(fresh_home: Path) -> None:
    assert manager.status() is None
    t0 = time.monotonic()
    first = manager.ensure_server()
    cold = time.monotonic() - t0
    assert not first.reused and manager.healthy(first.port)
    t0 = time.monotonic()
    second = manager.ensure_server()
    warm = time.monotonic() - t0
    assert second.reused and second.pid == first.pid and second.port == first.port
    assert second.api_key == first.api_key
    assert _servers_for(fresh_home) == [first.pid]
    print(f"\n[measure] cold ensure_server {cold:.2f}s (server ready {first.start_seconds:.2f}s after exec), "
          f"warm {warm * 1000:.1f} ms")


def test_concurrent_starters_share_one_server(fresh_home: Path) -> None:
    env = clean_env(fresh_home)
    procs = [subprocess.Popen([sys.executable, "-c", ENSURE], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, env=env) for _ in range(3)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    rows = [out.split() for out, _ in outs]
    assert len({r[0] for r in rows}) == 1, rows  # one pid
    assert sorted(r[2] for r in rows) == ["0", "1", "1"]  # one started it, two reused it
    assert _servers_for(fresh_home) == [int(rows[0][0])]


def test_kill_9_then_recovery(fresh_home: Path) -> None:
    first = manager.ensure_server()
    os.kill(first.pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while manager.pid_alive(first.pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert manager.state_path().exists()  # it had no chance to clean up
    assert manager.status() is None  # status notices, and removes the stale file
    assert not manager.state_path().exists()
    second = manager.ensure_server()
    assert not second.reused and second.pid != first.pid and manager.healthy(second.port)
    # killed again, with the stale state left for ensure_server itself to deal with
    os.kill(second.pid, signal.SIGKILL)
    while manager.pid_alive(second.pid):
        time.sleep(0.02)
    third = manager.ensure_server()
    assert third.pid not in (first.pid, second.pid) and manager.healthy(third.port)
    assert _servers_for(fresh_home) == [third.pid]


def test_stale_and_garbage_state_never_block(fresh_home: Path) -> None:
    local = fresh_home / "local"
    local.mkdir(parents=True)
    (local / "server.json").write_text("{ not json")
    info = manager.ensure_server()
    assert not info.reused
    manager.stop()
    # a dead pid with a port someone else now listens on
    (local / "server.json").write_text(json.dumps({
        "pid": 2 ** 22 + 17, "port": info.port, "api_key": "sk-old", "model": str(info.model), "alias": "smollm2",
        "n_ctx": 2048, "started_at": 0, "ready_at": 0}))
    again = manager.ensure_server()
    assert not again.reused and again.api_key != "sk-old"


def test_hung_server_is_replaced(fresh_home: Path) -> None:
    first = manager.ensure_server()
    os.kill(first.pid, signal.SIGSTOP)  # alive, but answers nothing
    try:
        assert manager.status() is None
        assert manager.state_path().exists()  # kept, so the next start can end that process
        second = manager.ensure_server()
        assert second.pid != first.pid and manager.healthy(second.port)
        deadline = time.monotonic() + 10
        while manager.pid_alive(first.pid) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not manager.pid_alive(first.pid)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(first.pid, signal.SIGKILL)


def test_stop_and_status(fresh_home: Path) -> None:
    info = manager.ensure_server()
    st = manager.status()
    assert st is not None and st.info.pid == info.pid
    assert st.rss_bytes is not None and 50 * 2**20 < st.rss_bytes < 1024 * 2**20
    print(f"\n[measure] server RSS {st.rss_bytes / 2**20:.0f} MiB")
    assert manager.stop() == info.pid
    assert not manager.pid_alive(info.pid)
    assert not manager.state_path().exists()
    assert manager.status() is None and manager.stop() is None


def test_idle_server_exits_by_itself(fresh_home: Path) -> None:
    env = clean_env(fresh_home, LIME_LOCAL_IDLE_TIMEOUT="1.5")
    out = subprocess.run([sys.executable, "-c", ENSURE], capture_output=True, text=True, env=env, timeout=60)
    pid = int(out.stdout.split()[0])
    # kept alive while a client keeps touching it
    for _ in range(6):
        time.sleep(0.5)
        subprocess.run([sys.executable, "-c", ENSURE], capture_output=True, text=True, env=env, timeout=60)
    assert manager.pid_alive(pid), "exited while in use"
    deadline = time.monotonic() + 10
    while manager.pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not manager.pid_alive(pid), "still running after the idle timeout"
    assert not manager.state_path().exists()
    assert "stopping (idle for" in (fresh_home / "local" / "server.log").read_text()


def test_a_long_lived_client_keeps_the_server_past_the_idle_timeout(fresh_home: Path) -> None:
    """A REPL that sits idle for longer than the timeout must still find its server."""
    env = clean_env(fresh_home, LIME_LOCAL_IDLE_TIMEOUT="1")
    holder = subprocess.Popen(
        [sys.executable, "-c", "from lime.catalog.routing import resolve_route; from lime.local.connect import "
         "activate; import sys, time; r = activate(resolve_route('smollm2')); print(r.base_url, flush=True); "
         "sys.stdin.readline()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
    assert holder.stdout is not None and holder.stdin is not None
    base_url = holder.stdout.readline().strip()
    info = manager.live_server()
    assert info is not None and info.base_url == base_url
    time.sleep(3)
    assert manager.live_server() is not None, "stopped while a client was still running"
    holder.stdin.close()
    holder.wait(timeout=30)
    deadline = time.monotonic() + 10
    while manager.pid_alive(info.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not manager.pid_alive(info.pid), "kept running after its last client left"


def test_pinned_model_replaces_the_running_one(fresh_home: Path, tmp_path: Path) -> None:
    default = paths.default_gguf()
    assert default is not None
    other = tmp_path / "tiny-chat.gguf"
    shutil.copyfile(default, other)
    first = manager.ensure_server()
    pinned = manager.ensure_server(other)
    assert pinned.pid != first.pid and pinned.alias == "tiny-chat" and pinned.model == other.resolve()
    assert not manager.pid_alive(first.pid)
    # unpinned callers take whatever runs
    assert manager.ensure_server().pid == pinned.pid


def test_window_knob_restarts_and_resizes_the_entry(fresh_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = manager.ensure_server()
    monkeypatch.setenv("LIME_LOCAL_CTX", "1024")
    route = activate(resolve_route("smollm2"))
    assert route.entry.context_window == 1024
    assert route.entry.max_output == 256 and route.entry.auto_compact == default_auto_compact(1024, 256)
    info = manager.live_server()
    assert info is not None and info.pid != first.pid and info.n_ctx == 1024
    assert not manager.pid_alive(first.pid)


def test_key_stays_secret(fresh_home: Path) -> None:
    env = clean_env(fresh_home)
    res = subprocess.run([sys.executable, "-m", "lime", "local", "start"], capture_output=True, text=True,
                         env=env, timeout=60)
    assert res.returncode == 0, res.stderr
    info = manager.live_server()
    assert info is not None
    key = info.api_key
    assert len(key) >= 32
    assert key not in res.stdout + res.stderr
    assert key.encode() not in Path(f"/proc/{info.pid}/cmdline").read_bytes()
    assert key not in (fresh_home / "local" / "server.log").read_text()
    assert stat.S_IMODE(manager.state_path().stat().st_mode) == 0o600
    assert stat.S_IMODE((fresh_home / "local").stat().st_mode) == 0o700
    status = subprocess.run([sys.executable, "-m", "lime", "local", "status"], capture_output=True, text=True,
                            env=env, timeout=60)
    assert key not in status.stdout + status.stderr
    # and the server really wants it
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", info.port, timeout=10)
    conn.request("GET", "/v1/models")
    resp = conn.getresponse()
    assert resp.status == 401 and b"Invalid API Key" in resp.read()
    conn.close()


def test_cli_start_status_stop(fresh_home: Path) -> None:
    env = clean_env(fresh_home)

    def lime(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "lime", "local", *args], capture_output=True, text=True,
                              env=env, timeout=60)

    start = lime("start")
    assert start.returncode == 0 and start.stdout.startswith("local server: started in ")
    assert f"model: {paths.default_gguf()}" in start.stdout
    assert "context window: 2048 tokens (model trained on 8192)" in start.stdout
    assert lime("start").stdout.startswith("local server: already running\n")
    status = lime("status").stdout.splitlines()
    assert status[0] == "local server: running"
    assert any(ln.startswith("uptime: ") for ln in status)
    assert any(ln.startswith("memory: ") and ln.endswith(" MiB resident") for ln in status)
    pid = int(next(ln for ln in status if ln.startswith("pid: ")).split()[1])
    port = int(next(ln for ln in status if ln.startswith("port: ")).split()[1])
    assert f"url: http://127.0.0.1:{port}/v1" in status
    assert lime("stop").stdout == f"local server: stopped (pid {pid})\n"
    assert lime("status").stdout == "local server: not running\n"
