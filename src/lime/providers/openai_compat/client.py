"""The Chat Completions client: one pooled HTTP connection per client, streaming and not, sync and async.

A request is one :class:`_Exchange`, whose :meth:`_Exchange.flow` holds every decision and does no
I/O: it yields steps ("send this request", "read the body", "pump the stream through this
parser", "hand these events to the caller", "sleep this long") and is told what happened (the
response head, the body, a transport failure). The sync and async clients are drivers that only
carry those steps out over httpx, so both behave the same by construction, as httpx's own
``Auth.auth_flow`` does. Retries (exponential backoff with jitter, ``Retry-After`` honoured)
happen only before any output reached the caller; a refused optional field is dropped or renamed
and retried once, and remembered for the service in the config home.
"""

from __future__ import annotations

import contextlib
import json
import random
import socket
import sys
import time
from collections.abc import AsyncGenerator, Callable, Generator, Iterator, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, NamedTuple, Protocol, TypeVar

from lime import config, jsonguard
from lime.errors import LimeError
from lime.providers.openai_compat import compat_memory, quirks
from lime.providers.openai_compat.compat_memory import Lessons
from lime.providers.openai_compat.errors import (
    BadResponse,
    ErrorBody,
    ProviderError,
    ResponseTooLarge,
    bad_response,
    classify,
    classify_payload,
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
    StreamFailure,
    StreamProcessor,
    completion_from_body,
)
from lime.providers.openai_compat.types import (
    ChatRoute,
    Completion,
    Message,
    RequestOptions,
    StreamEvent,
)
from lime.urls import endpoint_url, is_loopback_host, same_origin

if TYPE_CHECKING:
    import httpx

MAX_HEALS = 6
_told: set[tuple[str, str]] = set()  # (service, field) notices already shown in this process
_told_lessons: set[tuple[str, str, str]] = set()
_probed: set[tuple[str, str]] = set()  # (service, model) whose prompt size a non-streamed probe measured  # (service, base URL, model) whose lessons -v announced


def _stderr_notice(text: str) -> None:
    print(f"lime: {text}", file=sys.stderr, flush=True)


def _user_agent() -> str:
    from lime.version import __version__

    return f"lime/{__version__}"


# ----------------------------------------------------------------------------------------------
# The steps a flow asks of its driver, and what the driver tells it back


class Send(NamedTuple):
    """POST this body; reply with the response :class:`Head` (its body unread) or :class:`Failed`."""

    content: bytes
    headers: dict[str, str]
    stream: bool = True  # which of the wire's endpoints (Gemini streams from another URL)


class Read:
    """Read the whole body and close the response; reply with the bytes or :class:`Failed`."""

    __slots__ = ()


class Pump(NamedTuple):
    """Pass each body read to ``feed`` and hand its events on; reply None at the end or :class:`Failed`."""

    feed: Callable[[bytes], list[StreamEvent]]


class Emit(NamedTuple):
    """Hand these events to the caller; reply None."""

    events: list[StreamEvent]


class Sleep(NamedTuple):
    """Wait before the next attempt; reply None."""

    seconds: float


class Head(NamedTuple):
    status: int
    headers: Mapping[str, str]


class Failed(NamedTuple):
    """A transport error, or a reply the parsers rejected (StreamFailure, BadResponse), during a step."""

    error: BaseException


READ = Read()
Step = Send | Read | Pump | Emit | Sleep
Reply = Head | bytes | Failed | None
# A flow yields None once, after its last step.
Flow = Generator[Step | None, Reply, None]


# ----------------------------------------------------------------------------------------------
# Wires: what differs between Chat Completions, Anthropic Messages, OpenAI Responses and Gemini.
# The flow below (retries, healing, overflow, bounds, masking) is the same for all of them.


class Wire(Protocol):
    name: str
    optional_fields: frozenset[str]  # top-level body fields healing may drop besides the common ones

    def path(self, model: str, stream: bool) -> str: ...
    def headers(self, sent: dict[str, str]) -> dict[str, str]: ...
    def build_body(self, route: ChatRoute, messages: list[Message], options: RequestOptions, lessons: Any, *,
                   stream: bool) -> dict[str, Any]: ...
    def processor(self, model: str, estimator: Estimator, body: dict[str, Any]) -> StreamProcessor: ...
    def completion(self, data: Any, model: str, estimator: Estimator, body: dict[str, Any]) -> Completion: ...
    def is_error(self, data: Any) -> bool: ...
    def heal(self, err: ErrorBody, body: dict[str, Any], lessons: Lessons) -> Fix | None:
        """A refusal only this wire understands (a form of a field, a nested field), before the
        common healing of top-level optional fields; None to leave it to that."""
        ...


class ChatWire:
    """OpenAI Chat Completions, which every OpenAI-compatible server speaks."""

    name = "chat"
    optional_fields: frozenset[str] = frozenset()

    def path(self, model: str, stream: bool) -> str:
        return "chat/completions"

    def headers(self, sent: dict[str, str]) -> dict[str, str]:
        return sent

    def build_body(self, route: ChatRoute, messages: list[Message], options: RequestOptions, lessons: Any, *,
                   stream: bool) -> dict[str, Any]:
        return build_body(route, messages, options, lessons, stream=stream)

    def processor(self, model: str, estimator: Estimator, body: dict[str, Any]) -> StreamProcessor:
        return StreamProcessor(model, estimator)

    def completion(self, data: Any, model: str, estimator: Estimator, body: dict[str, Any]) -> Completion:
        return completion_from_body(data, model, estimator)

    def is_error(self, data: Any) -> bool:
        return isinstance(data, dict) and "error" in data and not data.get("choices")

    def heal(self, err: ErrorBody, body: dict[str, Any], lessons: Lessons) -> Fix | None:
        return None


CHAT = ChatWire()


def _is_json(headers: Mapping[str, str]) -> bool:
    ctype = headers.get("content-type", "")
    return "json" in ctype and "event-stream" not in ctype


class _Exchange:
    """One logical request: its body, retry count, lessons and answer. No I/O here."""

    def __init__(self, client: _BaseClient[Any], messages: list[Message], options: RequestOptions, stream: bool) -> None:
        self.client = client
        self.messages = messages
        self.options = options
        self.stream = stream
        self.attempt = 0
        self.healed: set[str] = set()
        self.body: dict[str, Any] = {}
        self.rebuild()
        # The (partial) answer of this attempt when streaming; the answer when not.
        self.proc = client.wire.processor(client.model, self.estimator(), self.body) if stream else None
        self.result: Completion | None = None

    def rebuild(self) -> None:
        self.body = self.client.wire.build_body(self.client.route, self.messages, self.options,
                                                self.client.lessons, stream=self.stream)

    def content(self) -> bytes:
        return json.dumps(self.body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    def estimator(self) -> Estimator:
        if self.client.wire is CHAT:
            return Estimator(self.body.get("messages", self.messages), self.body.get("tools"))
        tools = [t.to_wire() for t in self.options.tools] if self.options.tools else None
        return Estimator(self.messages, tools)

    def completion(self) -> Completion:
        assert self.result is not None, "the flow has not finished"
        return self.result

    # -- the flow ---------------------------------------------------------------------------------

    def flow(self) -> Flow:
        """The request from first attempt to answer; raises the ProviderError that ends it."""
        c = self.client
        headers = c.request_headers(self.stream)
        while True:
            head = yield Send(self.content(), headers, self.stream)
            if isinstance(head, Failed):
                delay: float | None = self.retry_delay(self.transport(head.error, "connect"))
            elif not isinstance(head, Head):
                raise TypeError(f"a Send step is answered with a Head or Failed, not {type(head).__name__}")
            elif head.status >= 400:
                raw = yield READ
                delay = self.http_failure(head.status, head.headers, raw if isinstance(raw, bytes) else b"")
            elif self.stream and not _is_json(head.headers):
                delay = yield from self._pump()
            else:
                delay = yield from self._whole(head)
            if delay is None:
                yield None
                return
            if delay:
                yield Sleep(delay)

    def _pump(self) -> Generator[Step, Reply, float | None]:
        proc = self.proc = self.client.wire.processor(self.client.model, self.estimator(), self.body)
        outcome = yield Pump(proc.feed)
        if outcome is None and proc.complete:
            reported = proc.usage is not None
            try:
                events = proc.end()
            except (StreamFailure, BadResponse) as exc:
                outcome = Failed(exc)
            else:
                yield Emit(events)
                if not reported and "stream_options" in self.body and (self.client.service,
                                                                       self.client.model) not in _probed:
                    yield from self._probe()
                return None
        if outcome is None and not proc.saw_chunk and proc.empty:
            return self.empty_answer()
        err = self.ended_early(proc) if not isinstance(outcome, Failed) else self.stream_error(outcome.error)
        return self.stream_failure(err, proc)

    def _probe(self) -> Generator[Step, Reply, None]:
        """A server that streams no usage (llama-cpp-python, even asked with include_usage) never
        teaches the token estimate: once per process, ask it the same prompt unstreamed for one
        token and learn the prompt's size from that usage. Best effort: any failure is ignored."""
        c = self.client
        _probed.add((c.service, c.model))
        body = {k: v for k, v in self.body.items() if k not in ("stream", "stream_options", "max_tokens",
                                                                 "max_completion_tokens")}
        body[c.lessons.max_tokens_field or c.route.capabilities.max_tokens_field] = 1
        content = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        head = yield Send(content, c.request_headers(False), False)
        if not isinstance(head, Head):
            return
        raw = yield READ
        if head.status != 200 or not isinstance(raw, bytes):
            return
        try:
            from lime.providers.openai_compat.stream import usage_from
            from lime.tokens import learned

            data = jsonguard.loads(raw)
            usage = usage_from(data.get("usage")) if isinstance(data, dict) else None
            if usage is not None and usage.prompt_tokens:
                learned.for_model(c.service, c.model).observe(self.messages, self.options.tools, "",
                                                              usage.prompt_tokens, 0, probe=True)
        except Exception:  # learning is best effort, never a failed answer
            return

    def _whole(self, head: Head) -> Generator[Step, Reply, float | None]:
        """A whole JSON body: a non-streamed answer, or a server that ignored ``stream``."""
        raw = yield READ
        if isinstance(raw, Failed):
            return self.retry_delay(self.stream_error(raw.error) if isinstance(raw.error, BadResponse)
                                    else self.transport(raw.error, "body"))
        assert isinstance(raw, bytes), "a Read step is answered with bytes or Failed"
        c = self.client
        if not raw.strip() and head.status == 200:
            return self.empty_answer()
        try:
            data = jsonguard.loads(raw)
        except jsonguard.JSONTooDeep as exc:
            raise bad_response(BadResponse(f"the response is {exc}"), service=c.service, model=c.model,
                               status=head.status) from None
        except ValueError:
            return self.retry_delay(self.not_json(raw, head.status))
        if c.wire.is_error(data):
            return self.retry_delay(classify_payload(raw, head.headers, service=c.service, model=c.model,
                                                     secrets=c.secrets, login_hint=c.login_hint,
                                                     where="error in body"))
        try:
            answer = c.wire.completion(data, c.model, self.estimator(), self.body)
        except BadResponse as exc:
            raise bad_response(exc, service=c.service, model=c.model, status=head.status) from None
        if not self.stream:
            self.result = answer
            return None
        proc = self.proc = c.wire.processor(c.model, self.estimator(), self.body)
        yield Emit(proc.absorb(answer) + proc.end())
        return None

    # -- decisions --------------------------------------------------------------------------------

    def empty_answer(self) -> float:
        """HTTP 200 with nothing in the body. Asking again gets the same nothing: llama-cpp-python
        answers so when it fails on the request (``tool_choice: "auto"`` while streaming, which it
        refuses, or a prompt past its window). Drop ``tool_choice`` once and remember it; else say so."""
        c = self.client
        if "tool_choice" in self.body and "tool_choice" not in self.healed:
            lessons = c.lessons
            new = Lessons(set(lessons.drop) | {"tool_choice"}, set(lessons.strip_message_fields),
                          lessons.max_tokens_field)
            self.healed.add("tool_choice")
            c.learn(Fix("tool_choice", "drop", new))
            self.rebuild()
            return 0.0
        raise self._error("the server answered HTTP 200 with an empty body, which usually means it failed on "
                          "the request (a prompt past its context window, or a feature it does not support); "
                          "its log says which", kind="bad_response", status=200)

    def http_failure(self, status: int, headers: Mapping[str, str], raw: bytes) -> float:
        """Decide what a 4xx/5xx means: a delay before trying again (0 after a fix), or raise."""
        c = self.client
        body = parse_error_body(raw, headers.get("content-type", "")) if status in (400, 422, 500) else None
        # A 500 whose body is a validation error naming a request field (a proxy that maps every
        # exception to 500) is a refusal of that field, healed like a 400.
        if body is not None and status == 500 and any(f.split(".")[0] in self.body for f in body.fields):
            status = 422
        if body is not None and status in (400, 422) and len(self.healed) < MAX_HEALS:
            overflow = looks_like_overflow(body.message, body.code, body.type)
            fix = None if overflow else c.wire.heal(body, self.body, c.lessons) or heal(
                status, body, self.body, c.lessons, extra=droppable_fields(c.route) | c.wire.optional_fields)
            if fix is not None and fix.field not in self.healed:
                self.healed.add(fix.field)
                c.learn(fix)
                self.rebuild()
                return 0.0
        err = classify(status, raw, headers, service=c.service, model=c.model, secrets=c.secrets,
                       login_hint=c.login_hint)
        if c.keyless and err.hint is None and quirks.bare_server_error(status, err.server_message):
            err.hint = f"lime sent no key, and {quirks.KEYLESS_500_MEANS}; if it wants one, {c.login_hint}"
        return self.retry_delay(err)

    def retry_delay(self, err: ProviderError) -> float:
        """The delay before the next attempt at a retryable error; raise it when the budget is spent."""
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
        return self.retry_delay(err)

    # -- errors -----------------------------------------------------------------------------------

    def _error(self, what: str, *, kind: str = "server", status: int | None = None) -> ProviderError:
        c = self.client
        return ProviderError(f"{c.service} (model {c.model}): {what}", kind=kind, status=status,
                             service=c.service, model=c.model)

    def transport(self, exc: BaseException, phase: str) -> ProviderError:
        c = self.client
        return transport_error(exc, service=c.service, model=c.model, base_url=c.base_url, phase=phase)

    def not_json(self, raw: bytes, status: int) -> ProviderError:
        text = scrub(raw[:120].decode("utf-8", "replace"), self.client.secrets)
        return self._error(f"the response is not JSON: {text!r}", status=status)

    def stream_error(self, exc: BaseException) -> ProviderError:
        c = self.client
        if isinstance(exc, ProviderError):
            return exc
        if isinstance(exc, BadResponse):
            return bad_response(exc, service=c.service, model=c.model)
        if isinstance(exc, MalformedChunk):
            return self._error(str(exc))
        if isinstance(exc, StreamErrorPayload):
            return classify_payload(exc.payload, {}, service=c.service, model=c.model, secrets=c.secrets,
                                    login_hint=c.login_hint)
        return self.transport(exc, "stream")

    def ended_early(self, proc: StreamProcessor) -> ProviderError:
        what = "before the answer finished" if proc.output_started else "before any answer"
        return self._error(f"the connection closed {what}", kind="connection")


H = TypeVar("H", bound="httpx.Client | httpx.AsyncClient")


class _BaseClient(Generic[H]):
    def __init__(self, route: ChatRoute, *, max_retries: int | None = None, connect_timeout: float | None = None,
                 read_timeout: float | None = None, verbose: bool = False,
                 notice: Callable[[str], None] | None = None, wire: Wire | None = None) -> None:
        if route.base_url is None:
            raise LimeError(f"model {route.slug}: service {route.service!r} has no endpoint yet "
                            "(its local server is not running)")
        self.route = route
        self.service: str = route.service
        self.model: str = route.wire_model
        self.base_url: str = str(route.base_url).rstrip("/")
        self.wire: Wire = wire or CHAT
        self.url = endpoint_url(self.base_url, self.wire.path(self.model, True))
        self.max_retries = config.max_retries() if max_retries is None else max_retries
        self.connect_timeout = config.connect_timeout() if connect_timeout is None else connect_timeout
        self.read_timeout = config.read_timeout() if read_timeout is None else read_timeout
        self.retry_base = config.retry_base_delay()
        self.retry_cap = config.retry_max_delay()
        self.max_body = config.max_body_size()
        self.verbose = verbose
        self._notice = notice or _stderr_notice
        from lime.auth.headers import secret_values

        key = route.api_key
        own = route.request_headers()
        self.keyless = not own  # no key, and no header of the user's that could carry one
        sent = self.wire.headers(own)
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
        self._http: H | None = None
        self._target: httpx.URL | None = None
        self._other: httpx.URL | None = None  # a wire's non-streaming endpoint, when it has another
        self.login_hint: str | None = f"run: {route.login_hint()}"

    def say(self, text: str) -> None:
        self._notice(scrub(text, self.secrets))

    def learn(self, fix: Fix) -> None:
        self.lessons = fix.lessons
        saved = compat_memory.save(self.service, self.model, fix.lessons, self.base_url)
        # A refused --verbosity changes the answer the user asked for: said even without -v.
        if (self.verbose or fix.field == "verbosity") and (self.service, fix.field) not in _told:
            _told.add((self.service, fix.field))
            where = "remembered for next time" if saved else "could not save that"
            verb = {"rename": "renamed", "downgrade": "replaced"}.get(fix.action, "dropped")
            self.say(f"{self.service} (model {self.model}) rejected {fix.describe()}; {verb} it and retried "
                     f"({where})")

    def backoff(self, attempt: int, retry_after: float | None) -> float | None:
        if retry_after is not None:
            if retry_after > self.retry_cap:
                return None
            return float(retry_after) + random.uniform(0, min(1.0, self.retry_base))
        step = min(self.retry_cap, self.retry_base * (1 << min(attempt, 30)))
        return step / 2 + random.uniform(0, step / 2)

    def request_headers(self, stream: bool) -> dict[str, str]:
        """What varies per request; ``self.headers`` are set once on the connection pool."""
        return {"Accept": "text/event-stream" if stream else "application/json"}

    @property
    def http(self) -> H:
        """The connection pool, opened on first use (importing httpx costs time ``lime --help`` never pays)."""
        if self._http is None:
            self._http = self._connect()
        return self._http

    def _connect(self) -> H:
        raise NotImplementedError

    def request(self, step: Send) -> httpx.Request:
        """The POST for a Send step, with the pool's timeouts (its URL parsed once per client)."""
        if self._target is None:
            from lime.providers.openai_compat.httplib import httpx

            self._target = httpx.URL(self.url)
        target = self._target
        if not step.stream and self.wire is not CHAT:
            if self._other is None:
                from lime.providers.openai_compat.httplib import httpx

                self._other = httpx.URL(endpoint_url(self.base_url, self.wire.path(self.model, False)))
            target = self._other
        return self.http.build_request("POST", target, content=step.content, headers=step.headers)

    def check_redirect(self, response: httpx.Response) -> None:
        """Follow a redirect only within the endpoint's origin (an httpx response hook, run before
        httpx follows it): elsewhere a 307/308 would re-send the whole conversation, and any
        redirect would take the answer from a server nobody configured."""
        if not response.has_redirect_location:
            return
        try:
            target = response.url.join(response.headers["location"])
            where = f"{target.scheme}://{target.netloc.decode('ascii', 'replace')}"
        except Exception:  # a Location httpx cannot parse is refused like a foreign one
            target, where = None, "an unreadable location"
        if target is not None and same_origin(self.url, str(target)):
            return
        msg = (f"{self.service} (model {self.model}): the server redirected the request (HTTP "
               f"{response.status_code}) to another origin ({where}); lime sends the conversation and key only "
               f"to the service's own origin (if the service moved, log in again with its new base URL)")
        raise ProviderError(scrub(msg, self.secrets), kind="bad_response", status=response.status_code,
                            retryable=False, service=self.service, model=self.model)

    def _http_options(self) -> dict[str, Any]:
        from urllib.parse import urlsplit

        from lime.providers.openai_compat.httplib import httpx

        url = urlsplit(self.base_url)
        # Honour HTTP(S)_PROXY except for a server on this machine, which a proxy cannot reach.
        options: dict[str, Any] = {
            "timeout": httpx.Timeout(self.read_timeout, connect=self.connect_timeout), "follow_redirects": True,
            "trust_env": not is_loopback_host(url.hostname), "headers": self.headers}
        if url.scheme == "http" and not options["trust_env"]:
            # A plain-http server on this machine never needs TLS (redirects stay on its origin):
            # spare the ~25 ms of loading the system's CA certificates. This context still verifies,
            # with no roots, so any TLS connection it were ever used for would fail closed.
            import ssl

            options["verify"] = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        return options


def _plain(resp: httpx.Response) -> bool:
    """A body sent without Content-Encoding: its reads are the bytes themselves, so a stream reads
    them raw (httpx's decoding layer would only hand each one through, a few calls per read)."""
    return resp.headers.get("content-encoding", "").strip().lower() in ("", "identity")


class _Body:
    """A whole response body, read as httpx decompresses it, up to LIME_MAX_BODY_SIZE: a gzip
    bomb stops at the bound instead of inflating into memory."""

    __slots__ = ("limit", "parts", "size")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.parts: list[bytes] = []
        self.size = 0

    def add(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self.limit:
            self.parts = []
            raise ResponseTooLarge("the response body", self.limit, "LIME_MAX_BODY_SIZE")
        self.parts.append(chunk)

    def whole(self) -> bytes:
        return b"".join(self.parts)


class _Line:
    """One exchange as a driver sees it: iterate it for the flow's steps, set ``reply`` to answer each;
    it also holds the response being read, where ``close()`` from another thread or task reaches it."""

    def __init__(self, ex: _Exchange) -> None:
        self._flow = ex.flow()
        self.reply: Reply = None
        self.resp: httpx.Response | None = None
        self.closed = False

    def __iter__(self) -> Iterator[Step]:
        return self

    def __next__(self) -> Step:
        step = self._flow.send(self.reply)
        self.reply = None
        if step is None:
            raise StopIteration
        return step

    def opened(self, resp: httpx.Response) -> httpx.Response:
        self.resp = resp
        self.reply = Head(resp.status_code, resp.headers)
        return resp

    def failed(self, exc: BaseException) -> bool:
        """Tell the flow a step failed; False when the caller hung up (the failure is ours: stop quietly)."""
        self.reply = Failed(exc)
        return not self.closed

    def release(self, step: Step) -> bool:
        """After a Read or Pump the response is finished with: True when the driver must close it.
        Forgotten first, so that close() never touches a connection back in the pool."""
        if isinstance(step, Read | Pump):
            self.resp = None
            return True
        return False

    def shutdown(self) -> None:
        """Wake a read blocked in another thread: shut the socket down under it."""
        stream = self.resp.extensions.get("network_stream") if self.resp is not None else None
        if stream is not None:
            with contextlib.suppress(Exception):
                sock = stream.get_extra_info("socket")
                if isinstance(sock, socket.socket):
                    sock.shutdown(socket.SHUT_RDWR)


# ==============================================================================================
# Sync


def _drive(client: ChatClient, line: _Line) -> Generator[StreamEvent, None, None]:
    """Carry out a flow with a blocking httpx client; yields the events it emits."""
    from lime.providers.openai_compat.httplib import httpx

    for step in line:
        try:
            if isinstance(step, Send):
                resp = line.opened(client.http.send(client.request(step), stream=True))
            elif isinstance(step, Read):
                body = _Body(client.max_body)
                for chunk in resp.iter_bytes():
                    body.add(chunk)
                line.reply = body.whole()
            elif isinstance(step, Pump):
                feed = step.feed
                for raw in resp.iter_raw() if _plain(resp) else resp.iter_bytes():
                    events = feed(raw)
                    if events:
                        yield from events
            elif isinstance(step, Emit):
                yield from step.events
            else:
                time.sleep(step.seconds)
        except (httpx.HTTPError, StreamFailure, BadResponse) as exc:
            if not line.failed(exc):
                return
        finally:
            if line.release(step):
                resp.close()


class ChatClient(_BaseClient["httpx.Client"]):
    """Synchronous client for one route. Reuses one HTTP connection pool; close it when done."""

    def _connect(self) -> httpx.Client:
        from lime.providers.openai_compat.httplib import httpx

        return httpx.Client(**self._http_options(), event_hooks={"response": [self.check_redirect]})

    def stream(self, messages: list[Message], options: RequestOptions | None = None) -> ChatStream:
        return ChatStream(self, _Exchange(self, messages, options or RequestOptions(), True))

    def complete(self, messages: list[Message], options: RequestOptions | None = None) -> Completion:
        """One non-streamed request (``options.stream`` is ignored)."""
        ex = _Exchange(self, messages, options or RequestOptions(), False)
        for _ in _drive(self, _Line(ex)):
            pass
        return ex.completion()

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None

    def __enter__(self) -> ChatClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _StreamState:
    """What the sync and async streams share: the exchange and the line it is read from."""

    def __init__(self, ex: _Exchange) -> None:
        self._ex = ex
        self._line = _Line(ex)

    @property
    def completion(self) -> Completion:
        """The answer so far; once the stream is over (even cut short), with usage filled in."""
        proc = self._ex.proc
        assert proc is not None, "a stream's exchange always has a processor"
        c = proc.snapshot()
        if self._line.closed and c.usage is None and proc.output_started:
            c.usage = proc.final_usage()
        return c

    @property
    def request_body(self) -> dict[str, Any]:
        return self._ex.body


class ChatStream(_StreamState):
    """Iterate for events; ``.completion`` holds the answer so far; ``.close()`` hangs up at once."""

    def __init__(self, client: ChatClient, ex: _Exchange) -> None:
        super().__init__(ex)
        self._client = client
        self._events: Generator[StreamEvent, None, None] | None = None

    def __iter__(self) -> Iterator[StreamEvent]:
        # A for loop reads the driver's generator itself: no call through __next__ per event.
        events = self._open()
        return events if events is not None else iter(())

    def __next__(self) -> StreamEvent:
        events = self._open()
        if events is None:
            raise StopIteration
        return next(events)

    def _open(self) -> Generator[StreamEvent, None, None] | None:
        if self._events is None:
            if self._line.closed:
                return None
            self._events = _drive(self._client, self._line)
        return self._events

    def close(self) -> None:
        """Stop reading and close the connection (safe from another thread)."""
        line = self._line
        line.closed = True
        line.shutdown()
        if line.resp is not None:
            with contextlib.suppress(Exception):
                line.resp.close()
        if self._events is not None:
            with contextlib.suppress(Exception, GeneratorExit):
                self._events.close()

    def __enter__(self) -> ChatStream:
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        self.close()


# ==============================================================================================
# Async


async def _adrive(client: AsyncChatClient, line: _Line) -> AsyncGenerator[StreamEvent, None]:
    """The same driver for asyncio: every I/O step awaited, events yielded one by one."""
    import asyncio

    from lime.providers.openai_compat.httplib import httpx

    for step in line:
        try:
            if isinstance(step, Send):
                resp = line.opened(await client.http.send(client.request(step), stream=True))
            elif isinstance(step, Read):
                body = _Body(client.max_body)
                async for chunk in resp.aiter_bytes():
                    body.add(chunk)
                line.reply = body.whole()
            elif isinstance(step, Pump):
                async for raw in resp.aiter_raw() if _plain(resp) else resp.aiter_bytes():
                    for event in step.feed(raw):
                        yield event
            elif isinstance(step, Emit):
                for event in step.events:
                    yield event
            else:
                await asyncio.sleep(step.seconds)
        except (httpx.HTTPError, StreamFailure, BadResponse) as exc:
            if not line.failed(exc):
                return
        finally:
            if line.release(step):
                await resp.aclose()


class AsyncChatClient(_BaseClient["httpx.AsyncClient"]):
    """The same client for asyncio code: ``async for ev in client.stream(...)``, ``await client.complete(...)``."""

    def _connect(self) -> httpx.AsyncClient:
        from lime.providers.openai_compat.httplib import httpx

        async def check_redirect(response: httpx.Response) -> None:
            self.check_redirect(response)

        return httpx.AsyncClient(**self._http_options(), event_hooks={"response": [check_redirect]})

    def stream(self, messages: list[Message], options: RequestOptions | None = None) -> AsyncChatStream:
        return AsyncChatStream(self, _Exchange(self, messages, options or RequestOptions(), True))

    async def complete(self, messages: list[Message], options: RequestOptions | None = None) -> Completion:
        ex = _Exchange(self, messages, options or RequestOptions(), False)
        async for _ in _adrive(self, _Line(ex)):
            pass
        return ex.completion()

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
        super().__init__(ex)
        self._client = client
        self._events: AsyncGenerator[StreamEvent, None] | None = None

    def __aiter__(self) -> AsyncChatStream:
        return self

    async def __anext__(self) -> StreamEvent:
        if self._events is None:
            if self._line.closed:
                raise StopAsyncIteration
            self._events = _adrive(self._client, self._line)
        return await anext(self._events)

    async def close(self) -> None:
        line = self._line
        line.closed = True
        if line.resp is not None:
            with contextlib.suppress(Exception):
                await line.resp.aclose()
        if self._events is not None:
            with contextlib.suppress(Exception):
                await self._events.aclose()

    aclose = close

    async def __aenter__(self) -> AsyncChatStream:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
