"""The remote transports, on lime's HTTP client (httpx, loaded as ``providers`` loads it) and its
event-stream decoder.

``http`` (alias ``streamable-http``): each message is POSTed; the answer comes back as JSON or as
an event stream on that POST, and a GET stream, when the server offers one, carries what the
server sends on its own (``list_changed``...). ``sse`` (the older protocol): one GET event stream
carries everything the server sends; its first event names the URL to POST messages to, which
must be on the same origin.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urljoin, urlsplit

from lime.mcp.rpc import McpError, Message
from lime.mcp.stdio import MAX_MESSAGE

PROTOCOL_HEADER = "MCP-Protocol-Version"
SESSION_HEADER = "Mcp-Session-Id"


def _client(headers: dict[str, str]) -> Any:
    from lime.providers.openai_compat.httplib import httpx

    timeout = httpx.Timeout(connect=10.0, read=None, write=30.0, pool=10.0)
    return httpx.Client(headers={"User-Agent": "lime-mcp", **headers}, timeout=timeout, follow_redirects=False,
                        trust_env=False)


class NeedsLogin(McpError):
    """HTTP 401 and no stored token that works: ``lime mcp login NAME`` signs in."""

    def __init__(self, url: str, challenge: str | None) -> None:
        super().__init__(f"{url} needs sign-in (HTTP 401)")
        self.challenge = challenge


def _http_error(status: int, body: bytes, url: str) -> McpError:
    from lime.textsafe import sanitize

    text = sanitize(body[:200].decode("utf-8", "replace")).replace("\n", " ").strip()
    return McpError(f"HTTP {status} from {url}" + (f": {text}" if text else ""))


def _network_error(exc: Exception, url: str) -> McpError:
    from lime.textsafe import sanitize

    reason = sanitize(str(exc) or type(exc).__name__)[:200]
    return McpError(f"cannot reach {url}: {reason}")


def _events(response: Any) -> Iterator[tuple[bytes, bytes]]:
    from lime.providers.openai_compat.sse import SSEDecoder

    decoder = SSEDecoder(max_line=MAX_MESSAGE)
    for chunk in response.iter_raw():
        yield from decoder.feed(chunk)
    yield from decoder.close()


def _parse(data: bytes) -> Any:
    try:
        return json.loads(data)
    except (ValueError, RecursionError):
        return None


class _Auth:
    """A stored OAuth token for servers configured without an Authorization header; a 401 tries a
    refreshed one once."""

    url: str
    client: Any
    uses_oauth: bool

    def _setup_auth(self, headers: dict[str, str]) -> None:
        self.uses_oauth = not any(k.lower() == "authorization" for k in headers)
        if self.uses_oauth:
            from lime.mcp import oauth

            value = oauth.token(self.url)
            if value:
                self.client.headers["Authorization"] = f"Bearer {value}"

    def _reauth(self, resp: Any) -> bool:
        """After a 401: True when a refreshed token is in place (try again); else raise NeedsLogin."""
        challenge = resp.headers.get("www-authenticate")
        if self.uses_oauth:
            from lime.mcp import oauth

            value = oauth.token(self.url, refresh=True)
            if value and self.client.headers.get("Authorization") != f"Bearer {value}":
                self.client.headers["Authorization"] = f"Bearer {value}"
                return True
            raise NeedsLogin(self.url, challenge)
        raise McpError(f"{self.url} refused the configured Authorization header (HTTP 401)")


class StreamableHttpTransport(_Auth):
    blocking_send = True

    def __init__(self, url: str, headers: dict[str, str]) -> None:
        self.url = url
        self.client = _client(headers)
        self._setup_auth(headers)
        self.session_id: str | None = None
        self.protocol: str | None = None
        self._deliver: Callable[[Message], None] | None = None
        self._closed: Callable[[str], None] | None = None
        self.on_invalid: Callable[[str], None] | None = None
        self._stopping = False

    def start(self, deliver: Callable[[Message], None], closed: Callable[[str], None]) -> None:
        self._deliver, self._closed = deliver, closed

    def _headers(self) -> dict[str, str]:
        h = {"Accept": "application/json, text/event-stream"}
        if self.session_id:
            h[SESSION_HEADER] = self.session_id
        if self.protocol:
            h[PROTOCOL_HEADER] = self.protocol
        return h

    def send(self, message: Message, retried: bool = False) -> None:
        assert self._deliver is not None
        body = json.dumps(message, ensure_ascii=False).encode("utf-8", "surrogatepass")
        try:
            with self.client.stream("POST", self.url, content=body,
                                    headers={**self._headers(), "Content-Type": "application/json"}) as resp:
                sid = resp.headers.get(SESSION_HEADER)
                if sid and message.get("method") == "initialize":
                    self.session_id = sid
                if resp.status_code == 404 and self.session_id:
                    raise McpError("the server ended the session (HTTP 404)")
                if resp.status_code == 401 and not retried and self._reauth(resp):
                    return self.send(message, retried=True)
                if resp.status_code >= 400:
                    raise _http_error(resp.status_code, resp.read()[:400], self.url)
                if resp.status_code == 202 or "id" not in message or "method" not in message:
                    return
                kind = resp.headers.get("content-type", "").split(";")[0].strip().lower()
                if kind == "text/event-stream":
                    for event, data in _events(resp):
                        if event == b"message":
                            self._give(data)
                else:
                    data = b""
                    for chunk in resp.iter_raw():
                        data += chunk
                        if len(data) > MAX_MESSAGE:
                            raise McpError(f"the server sent a message larger than {MAX_MESSAGE >> 20} MB")
                    self._give(data)
        except McpError:
            raise
        except Exception as exc:
            if self._stopping:
                raise McpError("closed") from None
            raise _network_error(exc, self.url) from None

    def _give(self, data: bytes) -> None:
        assert self._deliver is not None
        value = _parse(data)
        if value is None:
            if self.on_invalid is not None:
                self.on_invalid("a body that is not JSON: " + data[:80].decode("utf-8", "replace"))
            return
        self._deliver(value)

    def listen(self) -> None:
        """Open the GET stream for messages the server sends on its own, when it offers one."""
        threading.Thread(target=self._listen, daemon=True, name="mcp-listen").start()

    def _listen(self) -> None:
        headers = {**self._headers(), "Accept": "text/event-stream"}
        with contextlib.suppress(Exception), self.client.stream("GET", self.url, headers=headers) as resp:
            if resp.status_code != 200:
                return
            for event, data in _events(resp):
                if event == b"message":
                    self._give(data)

    def close(self) -> None:
        self._stopping = True
        if self.session_id:
            with contextlib.suppress(Exception):
                self.client.request("DELETE", self.url, headers=self._headers(), timeout=2.0)
        with contextlib.suppress(Exception):
            self.client.close()


class SseTransport(_Auth):
    blocking_send = True

    def __init__(self, url: str, headers: dict[str, str], *, wait: float = 30.0) -> None:
        self.url = url
        self.client = _client(headers)
        self._setup_auth(headers)
        self.wait = wait
        self.endpoint: str | None = None
        self._ready = threading.Event()
        self._error: McpError | None = None
        self._deliver: Callable[[Message], None] | None = None
        self._closed: Callable[[str], None] | None = None
        self.on_invalid: Callable[[str], None] | None = None
        self._stopping = False

    def start(self, deliver: Callable[[Message], None], closed: Callable[[str], None]) -> None:
        self._deliver, self._closed = deliver, closed
        threading.Thread(target=self._read, daemon=True, name="mcp-sse").start()
        if not self._ready.wait(self.wait):
            raise McpError(f"{self.url} sent no endpoint event within {self.wait:g} s")
        if self._error is not None:
            raise self._error

    def _read(self, retried: bool = False) -> None:
        reason = "the server closed its event stream"
        try:
            with self.client.stream("GET", self.url, headers={"Accept": "text/event-stream"}) as resp:
                if resp.status_code == 401 and not retried and self._reauth(resp):
                    return self._read(retried=True)
                if resp.status_code >= 400:
                    raise _http_error(resp.status_code, resp.read()[:400], self.url)
                for event, data in _events(resp):
                    if event == b"endpoint":
                        self._set_endpoint(data.decode("utf-8", "replace").strip())
                    elif event == b"message":
                        value = _parse(data)
                        if value is None:
                            if self.on_invalid is not None:
                                self.on_invalid("an event that is not JSON: " + data[:80].decode("utf-8", "replace"))
                        elif self._deliver is not None:
                            self._deliver(value)
        except McpError as exc:
            self._error, reason = exc, str(exc)
        except Exception as exc:
            if not self._stopping:
                self._error = _network_error(exc, self.url)
                reason = str(self._error)
        self._ready.set()
        if self._closed is not None and not self._stopping:
            self._closed(reason)

    def _set_endpoint(self, raw: str) -> None:
        target = urljoin(self.url, raw)
        a, b = urlsplit(self.url), urlsplit(target)
        if (a.scheme, a.netloc) != (b.scheme, b.netloc):
            self._error = McpError(f"{self.url} asked lime to post its messages to another origin ({b.scheme}://"
                                   f"{b.netloc[:80]}); refused")
        else:
            self.endpoint = target
        self._ready.set()

    def send(self, message: Message) -> None:
        if self.endpoint is None:
            raise self._error or McpError("the server gave no endpoint to post messages to")
        body = json.dumps(message, ensure_ascii=False).encode("utf-8", "surrogatepass")
        try:
            resp = self.client.post(self.endpoint, content=body, headers={"Content-Type": "application/json"},
                                    timeout=30.0)
        except Exception as exc:
            raise _network_error(exc, self.endpoint) from None
        if resp.status_code == 401:
            self._reauth(resp)
            resp = self.client.post(self.endpoint, content=body, headers={"Content-Type": "application/json"},
                                    timeout=30.0)
        if resp.status_code >= 400:
            raise _http_error(resp.status_code, resp.content[:400], self.endpoint)

    def close(self) -> None:
        self._stopping = True
        with contextlib.suppress(Exception):
            self.client.close()
