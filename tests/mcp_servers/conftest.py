"""MCP test set-up: the real servers installed by .ci/run (npm, pinned), servers written with the
official SDK (tests/mcp_servers/servers/sdk_server.py) and hostile ones (servers/hostile.py), all on
127.0.0.1, and the e2e ``lime`` fixture (a private config home, the scripted fake model)."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from e2e.conftest import Lime, lime  # noqa: F401  (the fixture, reused)

ROOT = Path(__file__).resolve().parents[2]
NODE_BIN = ROOT / ".ci" / "mcp-servers" / "node_modules" / ".bin"
SERVERS = Path(__file__).resolve().parent / "servers"
SDK_SERVER = SERVERS / "sdk_server.py"
HOSTILE = SERVERS / "hostile.py"


def node_server(name: str) -> Path:
    """A real MCP server from npm (installed by .ci/run); CI must have it, a developer without node skips."""
    path = NODE_BIN / name
    if path.exists() and shutil.which("node"):
        return path
    if os.environ.get("CI"):
        pytest.fail(f"{path} is missing: .ci/run installs it with npm ci in .ci/mcp-servers")
    if not shutil.which("node"):
        pytest.skip("node is not installed: the real MCP servers from npm cannot run here")
    pytest.skip(f"run 'npm ci' in .ci/mcp-servers to install the real MCP servers ({name})")


@pytest.fixture
def everything() -> Path:
    return node_server("mcp-server-everything")


@pytest.fixture
def filesystem() -> Path:
    return node_server("mcp-server-filesystem")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, proc: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited ({proc.returncode}) before listening")
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listened on {port} within {timeout} s")


class Remote:
    """A server listening on 127.0.0.1 for the duration of a test."""

    def __init__(self, argv: list[str], port: int, env: dict[str, str] | None = None) -> None:
        self.port = port
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, env={**os.environ, **(env or {})},
                                     start_new_session=True)
        try:
            wait_port(port, self.proc)
        except Exception:
            self.close()
            raise

    def close(self) -> None:
        import signal

        with contextlib.suppress(OSError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(5)


@pytest.fixture
def remote() -> Iterator[list[Remote]]:
    started: list[Remote] = []
    yield started
    for r in started:
        r.close()


def sdk_remote(started: list[Remote], mode: str) -> str:
    """The SDK test server over ``http`` or ``sse``; its URL."""
    port = free_port()
    started.append(Remote([sys.executable, str(SDK_SERVER), mode, str(port)], port))
    return f"http://127.0.0.1:{port}/" + ("mcp" if mode == "http" else "sse")


def everything_remote(started: list[Remote], everything: Path, mode: str) -> str:
    """server-everything over streamable HTTP (``/mcp``) or SSE (``/sse``); its URL."""
    port = free_port()
    script = everything.resolve().parent / "index.js"
    if not script.exists():
        script = everything.resolve()
    started.append(Remote(["node", str(script), "streamableHttp" if mode == "http" else "sse"], port,
                          {"PORT": str(port)}))
    return f"http://127.0.0.1:{port}/" + ("mcp" if mode == "http" else "sse")
