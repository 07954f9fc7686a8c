"""`lime local start|stop|status`: the managed llama.cpp server, one fact per line, errors as
one-line LimeErrors."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from lime import config
from lime.local import manager


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser("local", help="manage the local llama.cpp server (offline model)")
    lsub = p.add_subparsers(dest="local_command", metavar="ACTION", required=True)
    for name, text in (("start", "start (or reuse) the server"), ("stop", "stop the server"),
                       ("status", "model path, port, pid, uptime, memory")):
        sp = lsub.add_parser(name, help=text)
        sp.add_argument("--gguf", metavar="PATH", help="serve this GGUF file instead of the default")
        sp.set_defaults(handler=_run)


def _duration(seconds: float) -> str:
    s = int(seconds)
    h, rem = divmod(s, 3600)
    m, s = divmod(rem, 60)
    if h:
        return f"{h}h {m:02d}m {s:02d}s"
    if m:
        return f"{m}m {s:02d}s"
    return f"{seconds:.1f}s"


def _idle(seconds: float) -> str:
    return "never" if seconds <= 0 else f"after {_duration(seconds)} without use"


def _window(info: manager.ServerInfo) -> str:
    d = info.discovery
    window = d.n_ctx if d is not None and d.n_ctx else info.n_ctx
    trained = f" (model trained on {d.n_ctx_train})" if d is not None and d.n_ctx_train else ""
    return f"{window} tokens{trained}"


def _describe(info: manager.ServerInfo) -> list[str]:
    lines = [
        f"model: {info.model}",
        f"url: {info.base_url}",
        f"port: {info.port}",
        f"pid: {info.pid}",
        f"context window: {_window(info)}",
    ]
    d = info.discovery
    if d is not None and d.tools is not None:
        lines.append(f"tool calling: {'yes' if d.tools else 'no (the chat template has none)'}")
    lines.append(f"stops: {_idle(info.idle_timeout)}")
    return lines


def _run(args: argparse.Namespace) -> int:
    action = args.local_command
    if action == "start":
        gguf = Path(args.gguf) if getattr(args, "gguf", None) else None
        info = manager.ensure_server(gguf)
        head = "already running" if info.reused else f"started in {info.start_seconds:.2f}s"
        print(f"local server: {head}")
        for line in _describe(info):
            print(line)
        print(f"log: {manager.log_path()}")
        return 0
    if action == "stop":
        stopped = manager.stop_server()
        if stopped is None:
            print("local server: not running")
        elif stopped[1]:
            print(f"local server: stopped (pid {stopped[0]}; it did not exit within {manager.STOP_TIMEOUT:g}s of "
                  "SIGTERM, so it was killed)")
        else:
            print(f"local server: stopped (pid {stopped[0]})")
        return 0
    if action == "status":
        config.check_home_readable()
        st = manager.status()
        if st is None:
            print("local server: not running")
            return 0
        print("local server: running")
        lines = _describe(st.info)
        lines.insert(4, f"uptime: {_duration(st.uptime)}")
        if st.rss_bytes is not None:
            lines.insert(5, f"memory: {st.rss_bytes / 2**20:.0f} MiB resident")
        for line in lines:
            print(line)
        return 0
    raise AssertionError(action)
