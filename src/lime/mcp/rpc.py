"""JSON-RPC 2.0 over any transport that moves whole messages: requests correlated by id (many may
be in flight at once), notifications, and the server's own requests answered by a handler.

The official SDK's client costs about half a second to import (pydantic, anyio, httpx...); this
is the part of it lime needs, on threads, in a few milliseconds.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

Message = dict[str, Any]

# JSON-RPC error codes lime sends.
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
REQUEST_CANCELLED = -32800
MAX_SERVER_REQUESTS = 16  # a server's requests answered at once (each may wait for the user)


class McpError(Exception):
    """A server, or the way to it, failed: the message is one line for the user."""


class RpcError(McpError):
    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.data = data


class Closed(McpError):
    """The connection ended (the process exited, the stream closed)."""


class TimedOut(McpError):
    pass


class Transport(Protocol):
    """Moves whole JSON-RPC messages; ``start`` wires delivery, ``send`` may block on the network."""

    def start(self, deliver: Callable[[Message], None], closed: Callable[[str], None]) -> None: ...
    def send(self, message: Message) -> None: ...
    def close(self) -> None: ...


@dataclass
class _Waiter:
    done: threading.Event = field(default_factory=threading.Event)
    result: Any = None
    error: McpError | None = None
    progress: Callable[[Message], None] | None = None


Handler = Callable[[str, Any], Any]  # a server request -> its result, or raise RpcError
Notify = Callable[[str, Any], None]


class Connection:
    def __init__(self, transport: Transport, *, on_request: Handler | None = None,
                 on_notification: Notify | None = None, on_invalid: Callable[[str], None] | None = None) -> None:
        self.transport = transport
        self.on_request = on_request
        self.on_notification = on_notification
        self.on_invalid = on_invalid
        self._ids = itertools.count(1)
        self._waiting: dict[int, _Waiter] = {}
        self._lock = threading.Lock()
        self.closed_reason: str | None = None
        self.invalid = 0  # messages that were not JSON-RPC
        self._answering = 0  # the server's requests being answered

    def start(self) -> None:
        self.transport.start(self._deliver, self._closed)

    # -- outgoing --------------------------------------------------------------------------

    def request(self, method: str, params: Any = None, *, timeout: float,
                progress: Callable[[Message], None] | None = None) -> Any:
        if self.closed_reason is not None:
            raise Closed(self.closed_reason)
        rid = next(self._ids)
        waiter = _Waiter(progress=progress)
        message: Message = {"jsonrpc": "2.0", "id": rid, "method": method}
        if params is not None:
            message["params"] = params
        if progress is not None:
            message.setdefault("params", {}).setdefault("_meta", {})["progressToken"] = rid
        with self._lock:
            self._waiting[rid] = waiter
        try:
            self._send_async(message, waiter)
            if not waiter.done.wait(timeout):
                self.notify("notifications/cancelled", {"requestId": rid, "reason": "timed out"})
                raise TimedOut(f"no answer to {method} within {timeout:g} s")
        finally:
            with self._lock:
                self._waiting.pop(rid, None)
        if waiter.error is not None:
            raise waiter.error
        return waiter.result

    def notify(self, method: str, params: Any = None) -> None:
        if self.closed_reason is not None:
            return
        message: Message = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            message["params"] = params
        self._send_async(message, None)

    def _send_async(self, message: Message, waiter: _Waiter | None) -> None:
        """A request goes out on another thread when the transport blocks (an HTTP POST that
        streams its answer): the caller waits with its own deadline. Notifications and replies go
        out in order, on the calling thread (``initialized`` must reach the server before the next request)."""

        def run() -> None:
            try:
                self.transport.send(message)
            except McpError as exc:
                if waiter is not None:
                    waiter.error = exc
                    waiter.done.set()
            except Exception as exc:  # a transport bug must not hang the caller
                if waiter is not None:
                    waiter.error = McpError(f"cannot send to the server ({type(exc).__name__}: {exc})")
                    waiter.done.set()

        if waiter is not None and getattr(self.transport, "blocking_send", False):
            threading.Thread(target=run, daemon=True, name="mcp-send").start()
        else:
            run()

    # -- incoming --------------------------------------------------------------------------

    def _deliver(self, message: Any) -> None:
        """Called on the transport's reader thread: nothing a message does may end that thread."""
        try:
            self._dispatch(message)
        except Exception as exc:
            self._bad(f"a message lime could not handle ({type(exc).__name__})")

    def _dispatch(self, message: Any) -> None:
        if isinstance(message, list):  # a batch
            for m in message[:1000]:
                self._dispatch(m)
            return
        if not isinstance(message, dict) or message.get("jsonrpc") != "2.0":
            self._bad("a message that is not JSON-RPC 2.0")
            return
        method = message.get("method")
        if isinstance(method, str):
            if "id" in message:
                with self._lock:
                    busy = self._answering >= MAX_SERVER_REQUESTS
                    if not busy:
                        self._answering += 1
                if busy:  # a server flooding lime with requests gets errors, not a thread each
                    self._send_async({"jsonrpc": "2.0", "id": message["id"], "error": {
                        "code": INTERNAL_ERROR, "message": "too many requests in flight"}}, None)
                    return
                threading.Thread(target=self._answer, args=(message["id"], method, message.get("params")),
                                 daemon=True, name="mcp-request").start()
            elif method == "notifications/progress":
                self._progress(message.get("params"))
            elif self.on_notification is not None:
                self.on_notification(method, message.get("params"))
            return
        rid = message.get("id")
        with self._lock:
            waiter = self._waiting.get(rid) if isinstance(rid, int) and not isinstance(rid, bool) else None
        if waiter is None:
            self._bad(f"an answer to a request lime did not send (id {str(rid)[:20]})")
            return
        if "error" in message:
            err = message["error"]
            if isinstance(err, dict):
                raw = err.get("code")
                code = raw if isinstance(raw, int) else INTERNAL_ERROR
                waiter.error = RpcError(code, str(err.get("message", "error"))[:2000], err.get("data"))
            else:
                waiter.error = RpcError(INTERNAL_ERROR, "the server answered with a malformed error")
        elif "result" in message:
            waiter.result = message["result"]
        else:
            waiter.error = McpError("the server answered with neither a result nor an error")
        waiter.done.set()

    def _progress(self, params: Any) -> None:
        if not isinstance(params, dict):
            return
        token = params.get("progressToken")
        with self._lock:
            waiter = self._waiting.get(token) if isinstance(token, int) else None
        if waiter is not None and waiter.progress is not None:
            waiter.progress(params)

    def _answer(self, rid: Any, method: str, params: Any) -> None:
        try:
            self._answer_one(rid, method, params)
        finally:
            with self._lock:
                self._answering -= 1

    def _answer_one(self, rid: Any, method: str, params: Any) -> None:
        reply: Message = {"jsonrpc": "2.0", "id": rid}
        try:
            if method == "ping":
                reply["result"] = {}
            elif self.on_request is None:
                raise RpcError(METHOD_NOT_FOUND, f"method not found: {method}")
            else:
                reply["result"] = self.on_request(method, params)
        except RpcError as exc:
            reply["error"] = {"code": exc.code, "message": str(exc)}
        except Exception as exc:
            reply["error"] = {"code": INTERNAL_ERROR, "message": f"{type(exc).__name__}"}
        if self.closed_reason is None:
            self._send_async(reply, None)

    def _bad(self, what: str) -> None:
        self.invalid += 1
        if self.on_invalid is not None:
            self.on_invalid(what)

    def _closed(self, reason: str) -> None:
        if self.closed_reason is None:
            self.closed_reason = reason
        with self._lock:
            waiting = list(self._waiting.values())
        for w in waiting:
            if not w.done.is_set():
                w.error = Closed(reason)
                w.done.set()

    def close(self) -> None:
        self._closed("closed by lime")
        self.transport.close()
