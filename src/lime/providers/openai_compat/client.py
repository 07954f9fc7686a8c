"""The Chat Completions client: one pooled HTTP connection per client, streaming and not, sync and async.

A request goes through :class:`_Exchange`, which holds everything that is not I/O: the body built
for this service, the retry budget, the fields the server refused. The sync and async clients only
move bytes. Retries (exponential backoff with jitter, ``Retry-After`` honoured) happen only before
any output reached the caller; a refused optional field is dropped or renamed and retried once,
and remembered for the service in the config home.
"""

from __future__ import annotations

import contextlib
import json
import random
import socket
import sys
import time
from collections.abc import AsyncGenerator, Callable, Generator, Iterator
from types import TracebackType
from typing import TYPE_CHECKING, Any

from lime import config
from lime.errors import LimeError
from lime.providers.openai_compat import compat_memory
from lime.providers.openai_compat.errors import (
    ProviderError,
    classify,
    looks_like_overflow,
    parse_error_body,
    scrub,
    transport_error,
)
from lime.providers.openai_compat.request import Fix, build_body, droppable_fields, heal
from lime.providers.openai_compat.stream import (
    Estimator,
    MalformedChunk,
    StreamErrorPayload,
    StreamProcessor,
    completion_from_body,
)
from lime.providers.openai_compat.types import Completion, Message, RequestOptions, StreamEvent
from lime.urls import endpoint_url, is_loopback_host

if TYPE_CHECKING:
    import httpx

MAX_HEALS = 6
_told: set[tuple[str, str]] = set()  # (service, field) notices already shown in this process
_told_lessons: set[tuple[str, str, str]] = set()  # (service, base URL, model) whose lessons -v announced


def _stderr_notice(text: str) -> None:
    print(f"lime: {text}", file=sys.stderr, flush=True)


def _user_agent() -> str:
    from lime import __version__

    return f"lime/{__version__}"


class _Exchange:
    """One logical request: its body, retry count and lessons. No I/O here."""

    def __init__(self, client: _BaseClient, messages: list[Message], options: RequestOptions, stream: bool) -> None:
        self.client = client
        self.messages = messages
        self.options = options
        self.stream = stream
        self.attempt = 0
        self.healed: set[str] = set()
        self.body: dict[str, Any] = {}
        self.rebuild()

    def rebuild(self) -> None:
        self.body = build_body(self.client.route, self.messages, self.options, self.client.lessons,
                               stream=self.stream)

    def content(self) -> bytes:
        return json.dumps(self.body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    def estimator(self) -> Estimator:
        return Estimator(self.body.get("messages", self.messages), self.body.get("tools"))

    def http_failure(self, status: int, headers: Any, raw: bytes) -> float:
        """Decide what a 4xx/5xx means: a delay before trying again (0 after a fix), or raise."""
        c = self.client
        if status in (400, 422) and len(self.healed) < MAX_HEALS:
            body = parse_error_body(raw, headers.get("content-type", ""))
            overflow = looks_like_overflow(body.message, body.code, body.type)
            fix = None if overflow else heal(status, body, self.body, c.lessons,
                                             extra=droppable_fields(c.route))
            if fix is not None and fix.field not in self.healed:
                self.healed.add(fix.field)
                c.learn(fix)
                self.rebuild()
                return 0.0
        err = classify(status, raw, headers, service=c.service, model=c.model, secrets=c.secrets,
                       login_hint=c.login_hint)
        return self._retry_or_raise(err)

    def transport_failure(self, exc: BaseException, phase: str, partial: Completion | None = None) -> float:
        c = self.client
        err = transport_error(exc, service=c.service, model=c.model, base_url=c.base_url, phase=phase,
                              partial=partial)
        return self._retry_or_raise(err)

    def _retry_or_raise(self, err: ProviderError) -> float:
        c = self.client
        if err.retryable and self.attempt < c.max_retries:
            delay = c.backoff(self.attempt, err.retry_after)
            if delay is not None:
                self.attempt += 1
                if c.verbose or delay >= 2.0:
                    c.say(f"{err.message}; retrying in {delay:.1f}s ({self.attempt}/{c.max_retries})")
                return delay
            err.message += f" (the server asks to wait {err.retry_after:.0f}s; not waiting that long)"
        elif self.attempt:
            err.message += f" (gave up after {self.attempt} {'retry' if self.attempt == 1 else 'retries'})"
        err.args = (err.message,)
        raise err

    def stream_failure(self, err: ProviderError, proc: StreamProcessor) -> float:
        """A failure after the response started: retry only if nothing reached the caller yet."""
        err.partial = proc.snapshot()
        if proc.output_started:
            err.partial.usage = proc.final_usage()  # the tokens were spent; callers may count them
            raise err
        return self._retry_or_raise(err)

    def stream_error(self, exc: Exception, proc: StreamProcessor) -> ProviderError:
        c = self.client
        who = f"{c.service} (model {c.model})"
        if isinstance(exc, MalformedChunk):
            return ProviderError(f"{who}: {exc}", kind="server", service=c.service, model=c.model)
        if isinstance(exc, StreamErrorPayload):
            try:
                data = json.loads(exc.payload)
            except ValueError:
                data = None
            code = data.get("error", {}).get("code") if isinstance(data, dict) and isinstance(
                data.get("error"), dict) else None
            status = code if isinstance(code, int) and 400 <= code < 600 else 500
            err = classify(status, exc.payload, {}, service=c.service, model=c.model, secrets=c.secrets)
            err.message = err.message.replace(f"(HTTP {status})", "(error in stream)")
            err.args = (err.message,)
            return err
        return ProviderError(f"{who}: {scrub(str(exc), c.secrets)}", kind="server", service=c.service,
                             model=c.model)

    def ended_early(self, proc: StreamProcessor) -> ProviderError:
        c = self.client
        what = "before the answer finished" if proc.output_started else "before any answer"
        return ProviderError(f"{c.service} (model {c.model}): the connection closed {what}", kind="connection",
                             service=c.service, model=c.model)


class _BaseClient:
    def __init__(self, route: Any, *, max_retries: int | None = None, connect_timeout: float | None = None,
                 read_timeout: float | None = None, verbose: bool = False,
                 notice: Callable[[str], None] | None = None) -> None:
        if route.base_url is None:
            raise LimeError(f"model {route.slug}: service {route.service!r} has no endpoint yet "
                            "(its local server is not running)")
        self.route = route
        self.service: str = route.service
        self.model: str = route.wire_model
        self.base_url: str = str(route.base_url).rstrip("/")
        self.url = endpoint_url(self.base_url, "chat/completions")
        self.max_retries = config.max_retries() if max_retries is None else max_retries
        self.connect_timeout = config.connect_timeout() if connect_timeout is None else connect_timeout
        self.read_timeout = config.read_timeout() if read_timeout is None else read_timeout
        self.retry_base = config.retry_base_delay()
        self.retry_cap = config.retry_max_delay()
        self.verbose = verbose
        self._notice = notice or _stderr_notice
        from lime.auth.headers import request_headers, secret_values

        key = route.api_key
        sent = request_headers(route.credential)
        self.secrets: tuple[str, ...] = ((key,) if key else ()) + secret_values(sent)
        self.headers = {"Content-Type": "application/json", "User-Agent": _user_agent(), **sent}
        from lime.auth.resolve import plain_http_warning_once

        insecure = plain_http_warning_once(self.base_url, bool(key))
        if insecure:
            self._notice(f"warning: {insecure}")
        self.lessons = compat_memory.load(self.service, self.model, self.base_url)
        if verbose and not self.lessons.empty() and (self.service, self.base_url, self.model) not in _told_lessons:
            _told_lessons.add((self.service, self.base_url, self.model))
            self.say(f"{self.service} (model {self.model}): applying what this endpoint taught lime earlier: "
                     f"{'; '.join(self.lessons.describe())} (lime model forget {route.slug} clears it)")
        if route.service == "openai":
            self.login_hint: str | None = "run: lime login --provider openai --with-api-key"
        else:
            self.login_hint = f"run: lime login --provider openai-compat --service {route.service} --with-api-key"

    def say(self, text: str) -> None:
        self._notice(scrub(text, self.secrets))

    def learn(self, fix: Fix) -> None:
        self.lessons = fix.lessons
        saved = compat_memory.save(self.service, self.model, fix.lessons, self.base_url)
        if self.verbose and (self.service, fix.field) not in _told:
            _told.add((self.service, fix.field))
            where = "remembered for next time" if saved else "could not save that"
            verb = "renamed" if fix.action == "rename" else "dropped"
            self.say(f"{self.service} (model {self.model}) rejected {fix.describe()}; {verb} it and retried "
                     f"({where})")

    def backoff(self, attempt: int, retry_after: float | None) -> float | None:
        if retry_after is not None:
            if retry_after > self.retry_cap:
                return None
            return float(retry_after) + random.uniform(0, min(1.0, self.retry_base))
        step = min(self.retry_cap, self.retry_base * (1 << min(attempt, 30)))
        return step / 2 + random.uniform(0, step / 2)

    @property
    def _trust_env(self) -> bool:
        """Honour HTTP(S)_PROXY except for a server on this machine, which a proxy cannot reach."""
        from urllib.parse import urlsplit

        return not is_loopback_host(urlsplit(self.base_url).hostname)

    def _timeout(self) -> httpx.Timeout:
        import httpx

        return httpx.Timeout(self.read_timeout, connect=self.connect_timeout)

    def _parse_body(self, raw: bytes, ex: _Exchange, status: int) -> Completion:
        """A whole ``chat.completion`` body (non-streamed, or a server that ignored ``stream``)."""
        try:
            data = json.loads(raw)
        except ValueError:
            raise ProviderError(f"{self.service} (model {self.model}): the response is not JSON: "
                                f"{scrub(raw[:120].decode('utf-8', 'replace'), self.secrets)!r}",
                                kind="server", status=status, service=self.service, model=self.model) from None
        return completion_from_body(data, self.model, ex.estimator(), self._malformed)

    def _malformed(self, what: str) -> Exception:
        return ProviderError(f"{self.service} (model {self.model}): malformed response: {what}", kind="server",
                             service=self.service, model=self.model)

    def _request_headers(self, stream: bool) -> dict[str, str]:
        h = dict(self.headers)
        h["Accept"] = "text/event-stream" if stream else "application/json"
        return h


def _is_json(resp: httpx.Response) -> bool:
    ctype = resp.headers.get("content-type", "")
    return "json" in ctype and "event-stream" not in ctype


def _shutdown_socket(resp: httpx.Response | None) -> None:
    """Wake a read blocked in another thread: shut the socket down under it."""
    if resp is None:
        return
    stream = resp.extensions.get("network_stream")
    if stream is None:
        return
    with contextlib.suppress(Exception):
        sock = stream.get_extra_info("socket")
        if isinstance(sock, socket.socket):
            sock.shutdown(socket.SHUT_RDWR)


# ==============================================================================================
# Sync


class ChatClient(_BaseClient):
    """Synchronous client for one route. Reuses one HTTP connection pool; close it when done."""

    def __init__(self, route: Any, **kw: Any) -> None:
        super().__init__(route, **kw)
        self._http: httpx.Client | None = None

    @property
    def http(self) -> httpx.Client:
        if self._http is None:
            import httpx

            self._http = httpx.Client(timeout=self._timeout(), follow_redirects=True, trust_env=self._trust_env)
        return self._http

    def stream(self, messages: list[Message], options: RequestOptions | None = None) -> ChatStream:
        return ChatStream(self, _Exchange(self, messages, options or RequestOptions(), True))

    def complete(self, messages: list[Message], options: RequestOptions | None = None) -> Completion:
        """One non-streamed request (``options.stream`` is ignored)."""
        import httpx

        ex = _Exchange(self, messages, options or RequestOptions(), False)
        while True:
            resp = self._send(ex)
            try:
                raw = resp.read()
            except httpx.HTTPError as exc:
                time.sleep(ex.transport_failure(exc, "body"))
                continue
            finally:
                resp.close()
            try:
                data = json.loads(raw)
            except ValueError:
                err = ProviderError(f"{self.service} (model {self.model}): the response is not JSON: "
                                    f"{scrub(raw[:120].decode('utf-8', 'replace'), self.secrets)!r}",
                                    kind="server", status=resp.status_code, service=self.service, model=self.model)
                time.sleep(ex._retry_or_raise(err))
                continue
            if isinstance(data, dict) and "error" in data and not data.get("choices"):
                time.sleep(ex.http_failure(500, resp.headers, raw))
                continue
            return completion_from_body(data, self.model, ex.estimator(), self._malformed)

    def _send(self, ex: _Exchange) -> httpx.Response:
        """POST until a 2xx response arrives (its body unread), healing and retrying on the way."""
        import httpx

        http = self.http
        headers = self._request_headers(ex.stream)
        while True:
            request = http.build_request("POST", self.url, content=ex.content(), headers=headers)
            try:
                resp = http.send(request, stream=True)
            except httpx.HTTPError as exc:
                time.sleep(ex.transport_failure(exc, "connect"))
                continue
            if resp.status_code < 400:
                return resp
            try:
                raw = resp.read()
            except httpx.HTTPError:
                raw = b""
            finally:
                resp.close()
            delay = ex.http_failure(resp.status_code, resp.headers, raw)
            if delay:
                time.sleep(delay)

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None

    def __enter__(self) -> ChatClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _StreamState:
    """What the sync and async streams share: the exchange, the answer so far, the closed flag."""

    def __init__(self, model: str, ex: _Exchange) -> None:
        self._ex = ex
        self._proc = StreamProcessor(model, ex.estimator())
        self._resp: httpx.Response | None = None
        self._closed = False

    @property
    def completion(self) -> Completion:
        """The answer so far; once the stream is over (even cut short), with usage filled in."""
        c = self._proc.snapshot()
        if self._closed and c.usage is None and self._proc.output_started:
            c.usage = self._proc.final_usage()
        return c

    @property
    def request_body(self) -> dict[str, Any]:
        return self._ex.body

    def _failed(self, exc: Exception, proc: StreamProcessor) -> float:
        """Turn a failed attempt into a ProviderError; the delay before the retry, or raise it."""
        import httpx

        ex = self._ex
        if isinstance(exc, httpx.HTTPError):
            err: ProviderError = transport_error(exc, service=ex.client.service, model=ex.client.model,
                                                 base_url=ex.client.base_url, phase="stream")
        elif isinstance(exc, MalformedChunk | StreamErrorPayload):
            err = ex.stream_error(exc, proc)
        else:
            assert isinstance(exc, ProviderError)  # a JSON body that was not a completion
            err = exc
        return ex.stream_failure(err, proc)


class ChatStream(_StreamState):
    """Iterate for events; ``.completion`` holds the answer so far; ``.close()`` hangs up at once."""

    def __init__(self, client: ChatClient, ex: _Exchange) -> None:
        super().__init__(client.model, ex)
        self._client = client
        self._gen: Generator[StreamEvent, None, None] | None = None

    def __iter__(self) -> Iterator[StreamEvent]:
        return self

    def __next__(self) -> StreamEvent:
        if self._gen is None:
            if self._closed:
                raise StopIteration
            self._gen = self._events()
        return next(self._gen)

    def _events(self) -> Generator[StreamEvent, None, None]:
        import httpx

        ex = self._ex
        while True:
            self._resp = resp = self._client._send(ex)
            proc = self._proc = StreamProcessor(self._client.model, ex.estimator())
            delay: float | None = None
            try:
                if _is_json(resp):
                    yield from proc.absorb(self._client._parse_body(resp.read(), ex, resp.status_code))
                for raw in resp.iter_bytes():
                    events = proc.feed(raw)
                    if events:
                        yield from events
                if not proc.complete:
                    delay = ex.stream_failure(ex.ended_early(proc), proc)
                else:
                    yield from proc.end()
                    return
            except httpx.HTTPError as exc:
                if self._closed:
                    return
                delay = self._failed(exc, proc)
            except (MalformedChunk, StreamErrorPayload, ProviderError) as exc:
                delay = self._failed(exc, proc)
            finally:
                self._resp = None  # finished with it: close() must not touch a pooled connection
                resp.close()
            if delay:
                time.sleep(delay)

    def close(self) -> None:
        """Stop reading and close the connection (safe from another thread)."""
        self._closed = True
        _shutdown_socket(self._resp)
        if self._resp is not None:
            with contextlib.suppress(Exception):
                self._resp.close()
        if self._gen is not None:
            with contextlib.suppress(Exception, GeneratorExit):
                self._gen.close()

    def __enter__(self) -> ChatStream:
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        self.close()


# ==============================================================================================
# Async


class AsyncChatClient(_BaseClient):
    """The same client for asyncio code: ``async for ev in client.stream(...)``, ``await client.complete(...)``."""

    def __init__(self, route: Any, **kw: Any) -> None:
        super().__init__(route, **kw)
        self._http: httpx.AsyncClient | None = None

    @property
    def http(self) -> httpx.AsyncClient:
        if self._http is None:
            import httpx

            self._http = httpx.AsyncClient(timeout=self._timeout(), follow_redirects=True,
                                           trust_env=self._trust_env)
        return self._http

    def stream(self, messages: list[Message], options: RequestOptions | None = None) -> AsyncChatStream:
        return AsyncChatStream(self, _Exchange(self, messages, options or RequestOptions(), True))

    async def complete(self, messages: list[Message], options: RequestOptions | None = None) -> Completion:
        import asyncio

        import httpx

        ex = _Exchange(self, messages, options or RequestOptions(), False)
        while True:
            resp = await self._send(ex)
            try:
                raw = await resp.aread()
            except httpx.HTTPError as exc:
                await asyncio.sleep(ex.transport_failure(exc, "body"))
                continue
            finally:
                await resp.aclose()
            try:
                data = json.loads(raw)
            except ValueError:
                err = ProviderError(f"{self.service} (model {self.model}): the response is not JSON: "
                                    f"{scrub(raw[:120].decode('utf-8', 'replace'), self.secrets)!r}",
                                    kind="server", status=resp.status_code, service=self.service, model=self.model)
                await asyncio.sleep(ex._retry_or_raise(err))
                continue
            if isinstance(data, dict) and "error" in data and not data.get("choices"):
                await asyncio.sleep(ex.http_failure(500, resp.headers, raw))
                continue
            return completion_from_body(data, self.model, ex.estimator(), self._malformed)

    async def _send(self, ex: _Exchange) -> httpx.Response:
        import asyncio

        import httpx

        http = self.http
        headers = self._request_headers(ex.stream)
        while True:
            request = http.build_request("POST", self.url, content=ex.content(), headers=headers)
            try:
                resp = await http.send(request, stream=True)
            except httpx.HTTPError as exc:
                await asyncio.sleep(ex.transport_failure(exc, "connect"))
                continue
            if resp.status_code < 400:
                return resp
            try:
                raw = await resp.aread()
            except httpx.HTTPError:
                raw = b""
            finally:
                await resp.aclose()
            delay = ex.http_failure(resp.status_code, resp.headers, raw)
            if delay:
                await asyncio.sleep(delay)

    async def close(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    aclose = close

    async def __aenter__(self) -> AsyncChatClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


class AsyncChatStream(_StreamState):
    """``async for`` events; ``.completion`` so far; ``await .close()`` (or cancel the task) hangs up."""

    def __init__(self, client: AsyncChatClient, ex: _Exchange) -> None:
        super().__init__(client.model, ex)
        self._client = client
        self._gen: AsyncGenerator[StreamEvent, None] | None = None

    def __aiter__(self) -> AsyncChatStream:
        return self

    async def __anext__(self) -> StreamEvent:
        if self._gen is None:
            if self._closed:
                raise StopAsyncIteration
            self._gen = self._events()
        return await self._gen.__anext__()

    async def _events(self) -> AsyncGenerator[StreamEvent, None]:
        import asyncio

        import httpx

        ex = self._ex
        while True:
            self._resp = resp = await self._client._send(ex)
            proc = self._proc = StreamProcessor(self._client.model, ex.estimator())
            delay: float | None = None
            try:
                if _is_json(resp):
                    for ev in proc.absorb(self._client._parse_body(await resp.aread(), ex, resp.status_code)):
                        yield ev
                async for raw in resp.aiter_bytes():
                    events = proc.feed(raw)
                    for ev in events:
                        yield ev
                if not proc.complete:
                    delay = ex.stream_failure(ex.ended_early(proc), proc)
                else:
                    for ev in proc.end():
                        yield ev
                    return
            except httpx.HTTPError as exc:
                if self._closed:
                    return
                delay = self._failed(exc, proc)
            except (MalformedChunk, StreamErrorPayload, ProviderError) as exc:
                delay = self._failed(exc, proc)
            finally:
                self._resp = None
                await resp.aclose()
            if delay:
                await asyncio.sleep(delay)

    async def close(self) -> None:
        self._closed = True
        if self._resp is not None:
            with contextlib.suppress(Exception):
                await self._resp.aclose()
        if self._gen is not None:
            with contextlib.suppress(Exception):
                await self._gen.aclose()

    aclose = close

    async def __aenter__(self) -> AsyncChatStream:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
