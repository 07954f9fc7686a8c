"""Server bookkeeping that needs no model: stale and broken state files, recycled pids, idleness."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lime.local import manager, paths
from lime.local.serve import IdleClock, parse_metrics

from .conftest import PropsServer


def _write_state(**fields: object) -> Path:
    path = manager.state_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {"pid": 999_999_99, "port": 1, "api_key": "sk-local-test", "model": "/m.gguf", "alias": "m",
             "n_ctx": 2048, "started_at": time.time(), "ready_at": time.time(), "idle_timeout": 0}
    state.update(fields)
    path.write_text(json.dumps(state))
    return path


def test_no_state_means_not_running(local_home: Path) -> None:
    assert manager.status() is None
    assert manager.stop() is None
    assert not local_home.exists()  # asking does not create the config home


def test_dead_pid_is_stale_and_cleaned(local_home: Path) -> None:
    path = _write_state()
    assert manager.status() is None
    assert not path.exists()


def test_broken_state_file_is_stale(local_home: Path) -> None:
    path = manager.state_path()
    path.parent.mkdir(parents=True)
    path.write_text('{"pid": 12, "port"')
    assert manager.status() is None
    assert manager.stop() is None
    assert not path.exists()


def test_recycled_pid_is_never_signalled(local_home: Path, props_server: PropsServer) -> None:
    """The pid now belongs to an unrelated process and the port answers /health: still stale, and
    that process must survive stop()."""
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        path = _write_state(pid=other.pid, port=props_server.port)
        assert not manager.pid_alive(other.pid)
        assert manager.healthy(props_server.port)
        assert manager.live_server() is None
        assert manager.stop() is None
        assert not path.exists()
        time.sleep(0.1)
        assert other.poll() is None
    finally:
        other.kill()
        other.wait()


def test_zombie_counts_as_dead(local_home: Path) -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # exited but not reaped: a zombie
        state = Path(f"/proc/{child.pid}/stat").read_text()
        if state[state.rfind(")") + 2] == "Z":
            break
        time.sleep(0.01)
    assert not manager.pid_alive(child.pid)
    child.wait()


def test_health_needs_status_ok(props_server: PropsServer) -> None:
    assert manager.healthy(props_server.port)
    props_server.routes["/health"] = (503, {"error": {"code": 503, "message": "Loading model"}})
    assert not manager.healthy(props_server.port)
    props_server.routes["/health"] = (200, b"ok")
    assert not manager.healthy(props_server.port)


def test_state_without_key_or_with_wrong_types_is_ignored(local_home: Path) -> None:
    assert manager.info_from_state({"pid": 1, "port": 2}) is None
    assert manager.info_from_state({"pid": "1", "port": 2, "api_key": "k"}) is None
    good = {"pid": 1, "port": 2, "api_key": "k", "model": "/m", "alias": "a", "n_ctx": 10,
            "started_at": 1.0, "ready_at": 2.0, "discovery": {"broken": True}}
    info = manager.info_from_state(good)
    assert info is not None and info.discovery is None and info.base_url == "http://127.0.0.1:2/v1"
    assert "k" not in repr(info)


def test_activity_touch_is_private(local_home: Path) -> None:
    manager.config.local_dir().mkdir(parents=True)
    manager.touch_activity()
    mode = stat.S_IMODE(os.stat(manager.activity_path()).st_mode)
    assert mode == 0o600


# --- what the user is told when the local model cannot run -------------------------------------

def test_missing_gguf_file(local_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIME_LOCAL_MODEL", str(local_home / "nope.gguf"))
    with pytest.raises(paths.LocalUnavailable, match="GGUF file not found"):
        manager.ensure_server()


def test_not_a_gguf(local_home: Path, tmp_path: Path) -> None:
    fake = tmp_path / "model.gguf"
    fake.write_bytes(b"PK\x03\x04 not a model")
    with pytest.raises(paths.LocalUnavailable, match="is not a GGUF model file"):
        manager.ensure_server(fake)
    with pytest.raises(paths.LocalUnavailable, match="is a directory"):
        manager.ensure_server(tmp_path)


def test_alias() -> None:
    assert paths.alias_for(Path("/x") / paths.DEFAULT_GGUF_NAME) == "smollm2"
    assert paths.alias_for(Path("/x/qwen2.5-0.5b-q4.gguf")) == "qwen2.5-0.5b-q4"


# --- idleness ------------------------------------------------------------------------------------

METRICS = """# HELP llamacpp:prompt_tokens_total Number of prompt tokens processed
# TYPE llamacpp:prompt_tokens_total counter
llamacpp:prompt_tokens_total {p}
llamacpp:prompt_tokens_cached_total 0
llamacpp:tokens_predicted_total {g}
llamacpp:n_decode_total {g}
llamacpp:requests_processing {busy}
llamacpp:requests_deferred 0
"""


def test_parse_metrics() -> None:
    parsed = parse_metrics(METRICS.format(p=31, g=5, busy=1))
    assert parsed == ((31.0, 5.0, 5.0, 0.0), True)
    assert parse_metrics('{"error":{"code":501,"message":"This server does not support metrics"}}') is None
    assert parse_metrics(None) is None


def test_idle_clock(local_home: Path, tmp_path: Path) -> None:
    activity = tmp_path / "activity"
    clock = IdleClock(activity, now=1000.0)
    clock.observe(METRICS.format(p=0, g=0, busy=0), 1000.0)
    clock.observe(METRICS.format(p=0, g=0, busy=0), 1100.0)
    assert clock.idle_for(1100.0) == 100.0  # nothing moved
    clock.observe(METRICS.format(p=31, g=5, busy=0), 1200.0)
    assert clock.idle_for(1200.0) == 0.0  # a request was served since the last look
    clock.observe(METRICS.format(p=31, g=5, busy=1), 1500.0)
    assert clock.idle_for(1500.0) == 0.0  # a long generation in flight is not idleness
    clock.observe(METRICS.format(p=31, g=5, busy=0), 1600.0)
    assert clock.idle_for(1700.0) == 200.0
    activity.touch()
    os.utime(activity, (1650.0, 1650.0))  # a client said it is about to use the server
    clock.observe(METRICS.format(p=31, g=5, busy=0), 1700.0)
    assert clock.idle_for(1700.0) == 50.0


def test_leases_keep_the_server_in_use(local_home: Path, tmp_path: Path) -> None:
    manager.register_client()
    assert manager.live_clients() == [os.getpid()]
    clock = IdleClock(tmp_path / "activity", now=1000.0)
    clock.observe(METRICS.format(p=0, g=0, busy=0), 5000.0)
    assert clock.idle_for(5000.0) == 0.0  # a live lease holder counts as use
    (manager.clients_dir() / str(os.getpid())).unlink()
    clock.observe(METRICS.format(p=0, g=0, busy=0), 6000.0)
    assert clock.idle_for(6000.0) == 1000.0


def test_stale_leases_are_removed(local_home: Path) -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    manager.register_client()
    leases = manager.clients_dir()
    (leases / str(child.pid)).write_text("12345")  # process gone
    (leases / "1").write_text("999999999")  # pid 1 exists, but started at another time: recycled pid
    (leases / "junk").write_text("x")
    assert manager.live_clients() == [os.getpid()]
    assert sorted(p.name for p in leases.iterdir()) == [str(os.getpid())]
    (leases / str(child.pid)).write_text("12345")
    manager.register_client()  # registering prunes too
    assert sorted(p.name for p in leases.iterdir()) == [str(os.getpid())]


# A stand-in server (its argv names lime.local serve): on SIGTERM its main thread exits at once while
# a worker thread goes on for a while, as llama.cpp's do; with IGNORE it never exits on SIGTERM.
LINGERING_SERVER = r"""
import ctypes, signal, sys, threading, time
def work():
    while not stop.is_set():
        time.sleep(0.01)
    time.sleep(float(sys.argv[1]))
    import os; os._exit(0)
stop = threading.Event()
threading.Thread(target=work).start()
if sys.argv[2] == "IGNORE":
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
else:
    signal.signal(signal.SIGTERM, lambda *a: (stop.set(), ctypes.CDLL(None).syscall(60, 0)))
print("up", flush=True)
while True:
    time.sleep(1)
"""


def _lingering(linger: float, mode: str) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen([sys.executable, "-c", LINGERING_SERVER, str(linger), mode, "lime.local", "serve"],
                            stdout=subprocess.PIPE)
    assert proc.stdout is not None and proc.stdout.readline() == b"up\n"
    return proc


def _threads_running(pid: int) -> int:
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except FileNotFoundError:
        return 0
    states = []
    for t in tasks:
        try:
            text = Path(f"/proc/{pid}/task/{t}/stat").read_text()
        except OSError:
            continue
        states.append(text[text.rfind(")") + 2])
    return sum(s not in "ZX" for s in states)


@pytest.mark.skipif(not (sys.platform == "linux" and os.uname().machine == "x86_64"), reason="SYS_exit is 60 here")
def test_stop_returns_only_once_every_thread_has_exited(local_home: Path) -> None:
    proc = _lingering(0.8, "TERM")
    try:
        _write_state(pid=proc.pid)
        assert manager.stop_server() == (proc.pid, False)
        assert _threads_running(proc.pid) == 0
        assert not manager.state_path().exists()
    finally:
        proc.kill()
        proc.wait()


def test_a_server_ignoring_sigterm_is_killed_after_the_grace_period(local_home: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(manager, "STOP_TIMEOUT", 0.5)
    proc = _lingering(0, "IGNORE")
    try:
        _write_state(pid=proc.pid)
        assert manager.stop_server() == (proc.pid, True)
        assert _threads_running(proc.pid) == 0
    finally:
        proc.kill()
        proc.wait()
