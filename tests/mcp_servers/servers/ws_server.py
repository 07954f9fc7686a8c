"""An MCP server over WebSocket, stdlib only, for lime's tests: ``ws_server.py PORT``. One tool,
``echo``; it pings the client once and sends its answers in two fragments, as real servers may."""

from __future__ import annotations

import base64
import hashlib
import json
import socketserver
import struct
import sys

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class Handler(socketserver.BaseRequestHandler):
    def recv_exact(self, n: int) -> bytes:
        out = b""
        while len(out) < n:
            chunk = self.request.recv(n - len(out))
            if not chunk:
                raise EOFError
            out += chunk
        return out

    def frame(self, opcode: int, payload: bytes, fin: bool = True) -> None:
        n = len(payload)
        head = bytes([(0x80 if fin else 0) | opcode])
        head += bytes([n]) if n < 126 else bytes([126]) + struct.pack("!H", n) if n < 65536 else \
            bytes([127]) + struct.pack("!Q", n)
        self.request.sendall(head + payload)

    def send(self, obj: object) -> None:
        data = json.dumps(obj).encode()
        half = len(data) // 2
        self.frame(0x1, data[:half], fin=False)
        self.frame(0x0, data[half:])

    def handle(self) -> None:
        head = b""
        while b"\r\n\r\n" not in head:
            head += self.request.recv(4096)
        fields = dict(line.split(": ", 1) for line in head.decode().split("\r\n")[1:] if ": " in line)
        accept = base64.b64encode(hashlib.sha1((fields["Sec-WebSocket-Key"] + GUID).encode()).digest()).decode()
        self.request.sendall(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                              f"Sec-WebSocket-Accept: {accept}\r\nSec-WebSocket-Protocol: mcp\r\n\r\n").encode())
        self.frame(0x9, b"are you there")
        try:
            while True:
                b0, b1 = self.recv_exact(2)
                n = b1 & 0x7F
                if n == 126:
                    n = struct.unpack("!H", self.recv_exact(2))[0]
                elif n == 127:
                    n = struct.unpack("!Q", self.recv_exact(8))[0]
                mask = self.recv_exact(4)
                data = bytes(b ^ mask[i % 4] for i, b in enumerate(self.recv_exact(n)))
                if b0 & 0x0F == 0x8:
                    return
                if b0 & 0x0F != 0x1:
                    continue
                msg = json.loads(data)
                if "id" not in msg:
                    continue
                method = msg["method"]
                if method == "initialize":
                    result: object = {"protocolVersion": "2025-06-18", "capabilities": {"tools": {}},
                                      "serverInfo": {"name": "ws-test", "version": "1"}}
                elif method == "tools/list":
                    result = {"tools": [{"name": "echo", "description": "echo over ws", "inputSchema": {
                        "type": "object", "properties": {"text": {"type": "string"}}}}]}
                else:
                    result = {"content": [{"type": "text", "text": "ws echo: " + msg["params"]["arguments"]["text"]}]}
                self.send({"jsonrpc": "2.0", "id": msg["id"], "result": result})
        except (EOFError, OSError):
            return


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


Server(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
