"""A tiny llama.cpp look-alike on 127.0.0.1 serving ``/props``, ``/v1/models`` and ``/health``.

Bodies default to JSON captured from a real llama.cpp server (xllamacpp, SmolLM2) in ``data/``.
Each response is written with one ``sendall`` so keep-alive costs no delayed-ACK wait.
"""

from __future__ import annotations

import copy
import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from support.env import isolate

DATA = Path(__file__).parent / "data"
REAL_PROPS: dict[str, Any] = json.loads((DATA / "llamacpp_props.json").read_text())
REAL_MODELS: dict[str, Any] = json.loads((DATA / "llamacpp_models.json").read_text())


class PropsServer:
    """``routes`` maps a path to (status, body); ``api_key`` makes everything but /health answer 401."""

    def __init__(self) -> None:
        self.routes: dict[str, tuple[int, Any]] = {
            "/props": (200, copy.deepcopy(REAL_PROPS)),
            "/v1/models": (200, copy.deepcopy(REAL_MODELS)),
            "/health": (200, {"status": "ok"}),
        }
        self.api_key: str | None = None
        self.requests: list[tuple[str, dict[str, str]]] = []
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self.port: int = self._sock.getsockname()[1]
        self._closed = False
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def _serve(self) -> None:
        while not self._closed:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        buf = b""
        with conn:
            while True:
                while b"\r\n\r\n" not in buf:
                    try:
                        chunk = conn.recv(65536)
                    except OSError:
                        return
                    if not chunk:
                        return
                    buf += chunk
                head, buf = buf.split(b"\r\n\r\n", 1)
                lines = head.decode("latin-1").split("\r\n")
                _method, target, _ver = lines[0].split(" ", 2)
                headers = {k.strip().lower(): v.strip() for k, v in (ln.split(":", 1) for ln in lines[1:] if ":" in ln)}
                self.requests.append((target, headers))
                status, body = self._answer(target.split("?", 1)[0], headers)
                raw = body if isinstance(body, bytes) else json.dumps(body).encode()
                reason = {200: "OK", 401: "Unauthorized", 404: "Not Found", 500: "Internal Server Error"}.get(status, "X")
                conn.sendall(
                    f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {len(raw)}\r\n\r\n".encode() + raw
                )

    def _answer(self, path: str, headers: dict[str, str]) -> tuple[int, Any]:
        if self.api_key and path != "/health" and headers.get("authorization") != f"Bearer {self.api_key}":
            return 401, {"error": {"message": "Invalid API Key", "type": "authentication_error", "code": 401}}
        if path not in self.routes:
            return 404, {"error": {"code": 404, "message": "File Not Found", "type": "not_found_error"}}
        return self.routes[path]

    def close(self) -> None:
        self._closed = True
        self._sock.close()


@pytest.fixture
def props_server() -> Iterator[PropsServer]:
    server = PropsServer()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def local_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An isolated config home; no LIME_* knob from the outer environment leaks in."""
    home = tmp_path / "home"
    isolate(monkeypatch, home)
    return home
