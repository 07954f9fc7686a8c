"""The ``ws`` transport: JSON-RPC messages as WebSocket text frames (RFC 6455, subprotocol ``mcp``),
on a plain socket (``wss://`` through the system's TLS defaults). Small on purpose: one connection,
text and binary messages (fragmented or not), ping answered, close honoured, every message bounded.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import socket
import struct
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from lime.mcp.rpc import McpError, Message
from lime.mcp.stdio import MAX_MESSAGE

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
MAX_HEAD = 65536


class WsTransport:
    blocking_send = False

    def __init__(self, url: str, headers: dict[str, str], *, wait: float = 30.0) -> None:
        self.url = url
        self.headers = headers
        self.wait = wait
        self.sock: socket.socket | None = None
        self._write = threading.Lock()
        self._deliver: Callable[[Message], None] | None = None
        self._closed: Callable[[str], None] | None = None
        self.on_invalid: Callable[[str], None] | None = None
        self._stopping = False

    def start(self, deliver: Callable[[Message], None], closed: Callable[[str], None]) -> None:
        self._deliver, self._closed = deliver, closed
        parts = urlsplit(self.url)
        secure = parts.scheme == "wss"
        host, port = parts.hostname or "", parts.port or (443 if secure else 80)
        try:
            sock = socket.create_connection((host, port), timeout=self.wait)
            if secure:
                import ssl

                sock = ssl.create_default_context().wrap_socket(sock, server_hostname=host)
        except OSError as exc:
            raise McpError(f"cannot reach {self.url}: {exc.strerror or exc}") from None
        key = base64.b64encode(os.urandom(16)).decode()
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        lines = [f"GET {path} HTTP/1.1", f"Host: {parts.netloc}", "Upgrade: websocket", "Connection: Upgrade",
                 f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13", "Sec-WebSocket-Protocol: mcp",
                 *(f"{k}: {v}" for k, v in self.headers.items() if "\r" not in k + v and "\n" not in k + v)]
        try:
            sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = sock.recv(4096)
                if not chunk or len(head) > MAX_HEAD:
                    raise McpError(f"{self.url} closed the connection during the WebSocket handshake")
                head += chunk
        except OSError as exc:
            sock.close()
            raise McpError(f"{self.url}: the WebSocket handshake failed ({exc.strerror or exc})") from None
        head, _, rest = head.partition(b"\r\n\r\n")
        status, *fields = head.decode("latin-1").split("\r\n")
        values = {k.strip().lower(): v.strip() for k, _, v in (f.partition(":") for f in fields)}
        code = status.split(" ")[1] if len(status.split(" ")) > 1 else "?"
        accept = base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()
        if code != "101" or values.get("sec-websocket-accept") != accept:
            sock.close()
            raise McpError(f"{self.url} did not accept a WebSocket connection (HTTP {code[:3]})")
        sock.settimeout(None)
        self.sock = sock
        threading.Thread(target=self._read, args=(rest,), daemon=True, name="mcp-ws").start()

    def _frame(self, opcode: int, payload: bytes) -> None:
        if self.sock is None:
            raise McpError("the WebSocket is not open")
        mask = os.urandom(4)
        n = len(payload)
        head = bytes([0x80 | opcode])
        if n < 126:
            head += bytes([0x80 | n])
        elif n < 1 << 16:
            head += bytes([0x80 | 126]) + struct.pack("!H", n)
        else:
            head += bytes([0x80 | 127]) + struct.pack("!Q", n)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload)) if n < 4096 else _mask(payload, mask)
        with self._write:
            try:
                self.sock.sendall(head + mask + masked)
            except OSError:
                raise McpError("the WebSocket connection is closed") from None

    def send(self, message: Message) -> None:
        self._frame(0x1, json.dumps(message, ensure_ascii=False).encode("utf-8", "surrogatepass"))

    def _read(self, buffered: bytes) -> None:
        assert self.sock is not None
        buf = bytearray(buffered)
        sock = self.sock

        def need(n: int) -> bytes:
            while len(buf) < n:
                chunk = sock.recv(max(65536, n - len(buf)))
                if not chunk:
                    raise EOFError
                buf.extend(chunk)
            out = bytes(buf[:n])
            del buf[:n]
            return out

        reason = "the server closed the WebSocket"
        message = bytearray()
        try:
            while True:
                b0, b1 = need(2)
                opcode, n = b0 & 0x0F, b1 & 0x7F
                if n == 126:
                    n = struct.unpack("!H", need(2))[0]
                elif n == 127:
                    n = struct.unpack("!Q", need(8))[0]
                if n + len(message) > MAX_MESSAGE:
                    reason = f"the server sent a message larger than {MAX_MESSAGE >> 20} MB"
                    break
                mask = need(4) if b1 & 0x80 else b""
                payload = need(n)
                if mask:
                    payload = _mask(payload, mask)
                if opcode == 0x8:
                    break
                if opcode == 0x9:
                    self._frame(0xA, payload)
                    continue
                if opcode in (0x0, 0x1, 0x2):
                    message.extend(payload)
                    if b0 & 0x80:
                        self._give(bytes(message))
                        message.clear()
        except (EOFError, OSError, McpError, struct.error):
            pass
        if self._closed is not None and not self._stopping:
            self._closed(reason)

    def _give(self, data: bytes) -> None:
        try:
            value: Any = json.loads(data)
        except (ValueError, RecursionError):
            if self.on_invalid is not None:
                self.on_invalid("a message that is not JSON: " + data[:80].decode("utf-8", "replace"))
            return
        if self._deliver is not None:
            self._deliver(value)

    def close(self) -> None:
        self._stopping = True
        with contextlib.suppress(McpError, OSError):
            self._frame(0x8, b"")
        if self.sock is not None:
            with contextlib.suppress(OSError):
                self.sock.shutdown(socket.SHUT_RDWR)
            self.sock.close()


def _mask(data: bytes, mask: bytes) -> bytes:
    """XOR with the 4-byte mask, a machine word at a time."""
    n = len(data)
    key = int.from_bytes((mask * (n // 4 + 1))[:n], "big")
    return (int.from_bytes(data, "big") ^ key).to_bytes(n, "big")
