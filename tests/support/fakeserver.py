"""A scriptable OpenAI-compatible Chat Completions server on 127.0.0.1, for tests and benchmarks.

It speaks real HTTP/1.1 over real sockets (keep-alive, ``Transfer-Encoding: chunked`` for streams,
TCP_NODELAY, every non-streamed response written with one ``sendall``) so clients are tested on the
same wire format the real services use, not on a mocked transport.

Quick start (the ``fake_server`` pytest fixture in ``tests/conftest.py`` builds one per test)::

    def test_something(fake_server):
        fake_server.enqueue(reply("Hello there", chunks=3))         # adapts to stream / non-stream
        ... point the client at fake_server.base_url  (http://127.0.0.1:PORT/v1) ...
        req = fake_server.requests[-1]                                # what went on the wire
        assert req.json["model"] == "m" and req.headers["authorization"] == "Bearer sk-x"

Script entries (``enqueue(*responses)``; each ``POST .../chat/completions`` pops the next one):

``reply(text, *, reasoning=, tool_calls=, chunks=, finish_reason=, usage=AUTO, ...)``
    A model answer. Rendered as SSE when the request has ``"stream": true``, else as a
    ``chat.completion`` JSON body. ``tool_calls`` is a list of ``(name, arguments)`` pairs (``arguments``
    a dict or raw JSON text) or ``{"id":..., "name":..., "arguments":...}`` dicts. In a stream the id
    and name come only in each call's first fragment and the arguments are split in pieces
    (``interleave=True`` alternates fragments of parallel calls). ``usage=AUTO`` behaves like
    the real services: a usage chunk with empty ``choices`` after the finish chunk only when the
    request asked for ``stream_options.include_usage`` (or the profile sends it unasked); pass a
    dict to force given numbers or ``None`` to never send usage. ``done=False`` omits
    ``data: [DONE]``; ``cut_after=N`` closes the connection abruptly after N chunks (no [DONE],
    incomplete chunked body); ``delay`` sleeps between chunks; ``comments`` puts ``: ...`` keep-alive
    lines before the first chunk.
``text_stream(text, chunks=N, ...)``, ``tool_call_stream(calls, ...)``, ``reasoning_stream(reasoning, text, field="reasoning_content"|"reasoning")``
    Shorthands for ``reply`` that always stream (``force_stream=True``).
``SSE(items, ...)``
    Full control over the event stream. ``items`` holds dicts (sent as ``data: {json}``), ``Raw("...")``
    (written verbatim), ``Comment("keep-alive")``, ``Delay(seconds)``, ``Close()`` (abrupt close).
    Options: ``done``, ``line_ending`` ("\\n", "\\r\\n", "\\r"), ``split_at=[byte offsets]`` to cut the
    body into separate network writes there, ``write_size=N`` to write it N bytes at a time,
    ``framing="chunked"|"close"`` (close: no length, end of body = connection close).
``json_response(body, status=200, headers=None)`` / ``JSONResponse``
    Any JSON body (e.g. a hand-written ``chat.completion``).
``error(status, body=None, *, retry_after=None, content_type=None, headers=None)`` / ``ErrorResponse``
    ``body`` may be a dict (JSON), str (sent as-is: HTML pages, plain text) or None (empty body).
``overflow(profile_name)``
    The context-overflow error of that server, exactly as it words it.
``Hang(seconds)``
    Accept the request and send nothing for that long (read timeouts), then close.
``Reset()``
    Close the connection without answering.
``redirect(location, status=307)``
    A redirect (``Location`` header, empty body), e.g. to a second ``FakeServer`` on another port.
``Flood(piece, head=b"", total=None, encoding=None, ...)`` and its shorthands
    A hostile body written piece by piece without building it in memory: ``head``, then ``piece``
    repeated until ``total`` body bytes (``None``: forever, until the client hangs up).
    ``encoding="gzip"|"deflate"`` compresses it (a finite one is compressed once, cached, and sent
    with a ``Content-Length`` in one write). ``endless_stream(text)``: content chunks that never end;
    ``huge_line(size)``: one SSE ``data:`` line of ``size`` bytes with no line end;
    ``gzip_bomb(size)``: a small gzip body that inflates to ``size`` bytes of JSON-looking text.
a callable ``fn(request) -> response``
    Dynamic behaviour: it gets the :class:`Recorded` request and returns any entry above.

When the queue is empty, ``server.default`` answers (a response or callable; default: a 500 that
says the script ran out, so a test that sends one request too many fails loudly).

Profiles (``FakeServer(profile="mistral")`` or ``fake_server.use_profile("mistral")``) emulate what
each service does with optional fields: a request carrying a field the service rejects is answered
with that service's own error (status and wording) *before* the script is consulted, and the
script entry stays queued. A profile also decides whether usage is sent unasked, adds keep-alive
comments (OpenRouter), and answers with its overflow error when the prompt exceeds
``context_window`` (estimated as characters / 4). See :data:`PROFILES`.

Other endpoints: ``GET .../models`` lists ``server.models``; ``server.route("GET", "/props", resp)``
adds any other path. ``server.require_key = "sk-..."`` answers 401 to requests without that bearer key
(worded by ``server.auth_error`` if set); ``server.require_headers`` / ``server.require_query`` make it
a gateway or an Azure-style deployment that refuses requests missing those headers or query parameters.
``as_ollama``, ``as_lmstudio``, ``as_vllm``, ``as_litellm`` and ``as_openrouter`` turn a server into that
product, discovery endpoints included (Ollama's silent truncation with ``truncate_at``); ``think_reply`` is a model that
inlines ``<think>`` reasoning in its content.

Recorded requests (``server.requests``, a list of :class:`Recorded`): ``method``, ``path``, ``query``,
``headers`` (lower-case keys), ``body`` (bytes), ``json`` (parsed or None), ``stream`` (bool).
``server.connections`` counts accepted TCP connections (to check keep-alive reuse).
"""

from __future__ import annotations

import contextlib
import functools
import json
import socket
import socketserver
import threading
import time
import zlib
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "AUTO", "Close", "Comment", "Delay", "ErrorResponse", "FakeServer", "Flood", "Hang", "JSONResponse", "PROFILES",
    "Profile", "Raw", "Recorded", "Reply", "Reset", "SSE", "chat_completion", "endless_stream", "error",
    "gzip_bomb", "huge_line", "json_response", "overflow", "reasoning_stream", "redirect", "reply", "text_stream",
    "tool_call_stream", "as_litellm", "as_lmstudio", "as_ollama", "as_openrouter", "as_vllm", "litellm_auth_error",
    "litellm_no_db", "litellm_no_key", "litellm_messages_stream", "litellm_responses_stream", "think_reply",
]


class _Auto:
    def __repr__(self) -> str:
        return "AUTO"


AUTO: Any = _Auto()


# ----------------------------------------------------------------------------------------------
# Script entries


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    json: Any = None
    time: float = 0.0
    query: str = ""  # the request target's query string, without "?"

    @property
    def stream(self) -> bool:
        return isinstance(self.json, dict) and bool(self.json.get("stream"))

    @property
    def messages(self) -> list[dict[str, Any]]:
        return list(self.json.get("messages", [])) if isinstance(self.json, dict) else []


@dataclass
class JSONResponse:
    body: Any
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class ErrorResponse:
    status: int
    body: Any = None  # dict → JSON; str → as-is; None → empty
    retry_after: str | float | None = None
    content_type: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Raw:
    text: str


@dataclass
class Comment:
    text: str = "keep-alive"


@dataclass
class Delay:
    seconds: float


@dataclass
class Close:
    """Abruptly close the connection at this point of the stream."""


@dataclass
class SSE:
    items: list[Any]
    done: bool = True
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    line_ending: str = "\n"
    split_at: list[int] | None = None
    write_size: int | None = None
    write_delay: float = 0.0
    delay: float = 0.0
    framing: str = "chunked"


@dataclass
class Hang:
    seconds: float


@dataclass
class Reset:
    """Close the connection without answering."""


@dataclass
class Reply:
    text: str = ""
    reasoning: str = ""
    reasoning_field: str = "reasoning_content"
    tool_calls: list[Any] = field(default_factory=list)
    chunks: int | None = None
    finish_reason: str | None | _Auto = AUTO
    usage: Any = AUTO
    model: str | None = None
    done: bool = True
    cut_after: int | None = None
    delay: float = 0.0
    comments: list[str] = field(default_factory=list)
    interleave: bool = False
    force_stream: bool = False
    role_chunk: bool = True
    headers: dict[str, str] = field(default_factory=dict)
    line_ending: str = "\n"


@dataclass
class Flood:
    """A body too big to build: ``head``, then ``piece`` repeated up to ``total`` bytes (None: forever)."""

    piece: bytes
    head: bytes = b""
    total: int | None = None
    encoding: str | None = None  # "gzip" | "deflate"
    content_type: str = "text/event-stream"
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


Response = JSONResponse | ErrorResponse | SSE | Hang | Reset | Reply | Flood
Responder = Response | Callable[[Recorded], Any] | dict


def reply(text: str = "", **kw: Any) -> Reply:
    return Reply(text=text, **kw)


def text_stream(text: str, chunks: int | None = None, **kw: Any) -> Reply:
    return Reply(text=text, chunks=chunks, force_stream=True, **kw)


def tool_call_stream(calls: list[Any], text: str = "", **kw: Any) -> Reply:
    return Reply(text=text, tool_calls=calls, force_stream=True, **kw)


def reasoning_stream(reasoning: str, text: str = "", field: str = "reasoning_content", **kw: Any) -> Reply:
    return Reply(text=text, reasoning=reasoning, reasoning_field=field, force_stream=True, **kw)


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(body, status, dict(headers or {}))


def error(status: int, body: Any = None, *, retry_after: str | float | None = None,
          content_type: str | None = None, headers: dict[str, str] | None = None) -> ErrorResponse:
    return ErrorResponse(status, body, retry_after, content_type, dict(headers or {}))


def redirect(location: str, status: int = 307) -> ErrorResponse:
    return ErrorResponse(status, None, headers={"Location": location})


def endless_stream(text: str = "spam ") -> Flood:
    """Content chunks forever: what a runaway (or hostile) server streams."""
    chunk = f"data: {json.dumps(_chunk('fake-model', {'content': text}))}\n\n".encode()
    return Flood(chunk * max(1, 65536 // len(chunk)))


def huge_line(size: int, prefix: bytes = b'data: {"choices":[{"delta":{"content":"') -> Flood:
    """One event-stream line of ``size`` bytes that never ends."""
    return Flood(b"x" * 65536, head=prefix, total=size)


def gzip_bomb(size: int, *, encoding: str = "gzip", content_type: str = "application/json") -> Flood:
    """A body that is small on the wire and ``size`` bytes once inflated."""
    return Flood(b" " * (1 << 20), head=b'{"choices":[{"message":{"content":"', total=size, encoding=encoding,
                 content_type=content_type)


def openai_error(status: int, message: str, *, type: str = "invalid_request_error", param: str | None = None,
                 code: str | None = None, retry_after: str | float | None = None) -> ErrorResponse:
    return ErrorResponse(status, {"error": {"message": message, "type": type, "param": param, "code": code}},
                         retry_after)


def chat_completion(text: str | None = "", *, model: str = "fake-model", tool_calls: list[Any] | None = None,
                    finish_reason: str | None = None, usage: dict[str, Any] | None = None,
                    reasoning: str = "", reasoning_field: str = "reasoning_content") -> dict[str, Any]:
    """A ``chat.completion`` body as OpenAI returns it."""
    calls = [_norm_call(c, i) for i, c in enumerate(tool_calls or [])]
    message: dict[str, Any] = {"role": "assistant", "content": text if text or not calls else None}
    if calls:
        message["tool_calls"] = [{"id": c["id"], "type": "function",
                                  "function": {"name": c["name"], "arguments": c["arguments"]}} for c in calls]
    if reasoning:
        message[reasoning_field] = reasoning
    body: dict[str, Any] = {
        "id": "chatcmpl-fake", "object": "chat.completion", "created": 1700000000, "model": model,
        "choices": [{"index": 0, "message": message, "logprobs": None,
                     "finish_reason": finish_reason or ("tool_calls" if calls else "stop")}],
    }
    if usage is not None:
        body["usage"] = usage
    return body


def _norm_call(call: Any, i: int) -> dict[str, str]:
    if isinstance(call, dict):
        name, args, cid = call["name"], call.get("arguments", "{}"), call.get("id") or f"call_{i}"
    else:
        name, args = call
        cid = f"call_{i}"
    if not isinstance(args, str):
        args = json.dumps(args)
    return {"id": cid, "name": name, "arguments": args}


def _split(text: str, n: int | None) -> list[str]:
    if not text:
        return []
    if n is None:  # word-ish pieces, like a real tokenizer stream
        out, cur = [], ""
        for ch in text:
            if ch == " " and cur.strip():
                out.append(cur)
                cur = ""
            cur += ch
        if cur:
            out.append(cur)
        return out
    n = max(1, min(n, len(text)))
    size, rem = divmod(len(text), n)
    pieces, pos = [], 0
    for i in range(n):
        step = size + (1 if i < rem else 0)
        pieces.append(text[pos:pos + step])
        pos += step
    return pieces


def fake_prompt_tokens(body: dict[str, Any]) -> int:
    """The fake server's own prompt count: characters / 4 plus 4 per message (deterministic)."""
    total = 0
    for m in body.get("messages") or []:
        content = m.get("content")
        if isinstance(content, list):
            content = " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
        total += len(str(content or "")) // 4 + 4
        for c in m.get("tool_calls") or []:
            total += len(json.dumps(c)) // 4
    return total + 3


# ----------------------------------------------------------------------------------------------
# Profiles: what each service rejects and how it words it


@dataclass
class Profile:
    name: str
    # body → a response when the request carries something this service refuses, else None
    check: Callable[[dict[str, Any]], Response | None] = lambda body: None
    usage_unasked: bool = False
    honours_include_usage: bool = True
    overflow: Callable[[int, int], Response] = lambda n, w: _openai_overflow(n, w)
    context_window: int = 128000
    comments: list[str] = field(default_factory=list)
    # Ollama: a prompt longer than num_ctx is cut silently and usage reports only what was kept.
    truncate_at: int | None = None


def _openai_overflow(n: int, w: int) -> ErrorResponse:
    return openai_error(400, f"This model's maximum context length is {w} tokens. However, your messages "
                        f"resulted in {n} tokens. Please reduce the length of the messages.",
                        param="messages", code="context_length_exceeded")


def _reject_fields(fields: Iterable[str], make: Callable[[str, Any], Response],
                   when: Callable[[str, Any], bool] = lambda k, v: True) -> Callable[[dict[str, Any]], Response | None]:
    names = list(fields)

    def check(body: dict[str, Any]) -> Response | None:
        for name in names:
            if name in body and when(name, body[name]):
                return make(name, body[name])
        return None

    return check


def _chain(*checks: Callable[[dict[str, Any]], Response | None]) -> Callable[[dict[str, Any]], Response | None]:
    def check(body: dict[str, Any]) -> Response | None:
        for c in checks:
            r = c(body)
            if r is not None:
                return r
        return None

    return check


def _mistral_extra(body: dict[str, Any], allowed: set[str]) -> Response | None:
    detail = [{"type": "extra_forbidden", "loc": ["body", k], "msg": "Extra inputs are not permitted",
               "input": body[k]} for k in body if k not in allowed]
    for i, m in enumerate(body.get("messages") or []):
        for k in m:
            if k not in ("role", "content", "tool_calls", "tool_call_id", "name", "prefix"):
                detail.append({"type": "extra_forbidden", "loc": ["body", "messages", i, m.get("role"), k],
                               "msg": "Extra inputs are not permitted", "input": m[k]})
    if not detail:
        return None
    return ErrorResponse(422, {"object": "error", "message": {"detail": detail}, "type": "invalid_request_error",
                               "param": None, "code": None})


_MISTRAL_ALLOWED = {"model", "messages", "temperature", "top_p", "max_tokens", "stream", "stop", "random_seed",
                    "response_format", "tools", "tool_choice", "presence_penalty", "frequency_penalty", "n",
                    "prediction", "parallel_tool_calls", "safe_prompt"}


def _azure_unrecognized(name: str, value: Any) -> Response:
    return openai_error(400, f"Unrecognized request argument supplied: {name}")


def _vllm_extra(name: str, value: Any) -> Response:
    return ErrorResponse(400, {"object": "error", "message": f"[{{'type': 'extra_forbidden', 'loc': ('body', "
                               f"'{name}'), 'msg': 'Extra inputs are not permitted', 'input': {value!r}}}]",
                               "type": "BadRequestError", "param": None, "code": 400})


def _o_series(body: dict[str, Any]) -> Response | None:
    if "max_tokens" in body:
        return openai_error(400, "Unsupported parameter: 'max_tokens' is not supported with this model. "
                            "Use 'max_completion_tokens' instead.", param="max_tokens", code="unsupported_parameter")
    if "parallel_tool_calls" in body:
        return openai_error(400, "Unsupported parameter: 'parallel_tool_calls' is not supported with this model.",
                            param="parallel_tool_calls", code="unsupported_parameter")
    if "temperature" in body and body["temperature"] != 1:
        return openai_error(400, "Unsupported value: 'temperature' does not support 0.2 with this model. Only the "
                            "default (1) value is supported.", param="temperature", code="unsupported_value")
    return None


def _lmstudio(body: dict[str, Any]) -> Response | None:
    if isinstance(body.get("tool_choice"), dict):
        return ErrorResponse(400, {"error": "Invalid tool_choice type: 'object'. Supported string values: none, "
                                   "auto, required"})
    rf = body.get("response_format")
    if isinstance(rf, dict) and rf.get("type") == "json_object":
        return ErrorResponse(400, {"error": "'response_format.type' must be 'json_schema' or 'text'"})
    return None


def _lmstudio_overflow(n: int, w: int) -> Response:
    return ErrorResponse(400, {"error": f"Trying to keep the first {n} tokens when context the overflows. However, "
                               f"the model is loaded with context length of only {w} tokens, which is not enough. "
                               "Try to load the model with a larger context length, or provide a shorter input"})


def _llamacpp_overflow(n: int, w: int) -> Response:
    return ErrorResponse(400, {"error": {"code": 400, "message": f"request ({n} tokens) exceeds the available "
                                         f"context size ({w} tokens), try increasing it",
                                         "type": "exceed_context_size_error", "n_prompt_tokens": n, "n_ctx": w}})


def _vllm_overflow(n: int, w: int) -> Response:
    return ErrorResponse(400, {"object": "error", "message": f"This model's maximum context length is {w} tokens. "
                               f"However, you requested {n + 16} tokens ({n} in the messages, 16 in the completion). "
                               "Please reduce the length of the messages or completion.",
                               "type": "BadRequestError", "param": None, "code": 400})


def _openrouter_overflow(n: int, w: int) -> Response:
    return ErrorResponse(400, {"error": {"message": f"This endpoint's maximum context length is {w} tokens. "
                                         f"However, you requested about {n} tokens ({n} of text input). Please "
                                         "reduce the length of either one, or use the \"middle-out\" transform to "
                                         "compress your prompt automatically.", "code": 400,
                                         "metadata": {"provider_name": None}}, "user_id": "user_fake"})


def _groq_overflow(n: int, w: int) -> Response:
    return openai_error(400, "Please reduce the length of the messages or completion.", param="messages",
                        code="context_length_exceeded")


def _xai_overflow(n: int, w: int) -> Response:
    return ErrorResponse(400, {"code": "Client specified an invalid argument",
                               "error": f"This model's maximum prompt length is {w} but the request contains "
                               f"{n} tokens."})


def _mistral_overflow(n: int, w: int) -> Response:
    return ErrorResponse(400, {"object": "error", "message": f"Prompt contains {n} tokens and 0 draft tokens, too "
                               f"large for model with {w} maximum context length", "type": "invalid_request_error",
                               "param": None, "code": "3051"})


def _cohere_check(body: dict[str, Any]) -> Response | None:
    for name in ("n", "logit_bias", "top_logprobs", "stream_options", "reasoning_effort", "store"):
        if name in body:
            return ErrorResponse(422, {"id": "3039bcc8-6be7-4c38-a667-5de880ca2c80",
                                       "message": f"unprocessable entity: {name} is not supported"})
    return None


def _cohere_overflow(n: int, w: int) -> Response:
    return ErrorResponse(400, {"message": f"too many tokens: size limit exceeded by {n - w} tokens. Try using "
                               "shorter or fewer inputs, or setting prompt_truncation='AUTO'."})


def _together_overflow(n: int, w: int) -> Response:
    return openai_error(400, f"Input validation error: `inputs` tokens + `max_new_tokens` must be <= {w}. "
                        f"Given: {n} `inputs` tokens and 16 `max_new_tokens`", code="invalid_request_error")


def _cerebras_overflow(n: int, w: int) -> Response:
    return openai_error(400, f"Please reduce the length of the messages or completion. Current length is {n} while "
                        f"limit is {w}", param="messages", code="context_length_exceeded")


def _perplexity_check(body: dict[str, Any]) -> Response | None:
    for name in ("tools", "tool_choice", "parallel_tool_calls"):
        if name in body:
            return ErrorResponse(400, {"error": {"message": f"Unsupported parameter: {name}",
                                                 "type": "invalid_parameter", "code": 400}})
    return None


def _gemini_none(body: dict[str, Any]) -> Response | None:
    if body.get("reasoning_effort") == "none":
        return ErrorResponse(400, [{"error": {"code": 400, "message": "Invalid reasoning_effort value: none",
                                              "status": "INVALID_ARGUMENT"}}])
    return None


def _grok4(name: str, value: Any) -> Response:
    return ErrorResponse(400, {"code": "Client specified an invalid argument",
                               "error": f"Argument not supported on this model: {name}"})


PROFILES: dict[str, Profile] = {p.name: p for p in (
    Profile("openai"),
    Profile("openai-o", check=_o_series),
    Profile("azure", check=_reject_fields(["stream_options", "reasoning_effort", "verbosity"], _azure_unrecognized)),
    Profile("groq", check=_reject_fields(["n", "logprobs"], lambda k, v: openai_error(
        400, f"'{k}' : value must be at most 1" if k == "n" else "`logprobs` is not supported with this model",
        param=k), when=lambda k, v: k != "n" or v != 1), overflow=_groq_overflow),
    Profile("openrouter", usage_unasked=True, comments=[": OPENROUTER PROCESSING", ": OPENROUTER PROCESSING"],
            overflow=_openrouter_overflow),
    Profile("together", overflow=_together_overflow),
    Profile("mistral", check=lambda b: _mistral_extra(b, _MISTRAL_ALLOWED), usage_unasked=True,
            honours_include_usage=False, overflow=_mistral_overflow),
    Profile("deepinfra"),
    Profile("cerebras", usage_unasked=True, overflow=_cerebras_overflow),
    Profile("xai", overflow=_xai_overflow),
    Profile("xai-grok4", check=_reject_fields(["reasoning_effort", "stop", "presence_penalty"], _grok4),
            overflow=_xai_overflow),
    Profile("perplexity", check=_perplexity_check, usage_unasked=True),
    Profile("cohere", check=_cohere_check, honours_include_usage=False, overflow=_cohere_overflow),
    Profile("nvidia"),
    Profile("ollama", context_window=10**9),  # silently truncates: no overflow error
    Profile("vllm", check=_reject_fields(["reasoning_effort", "verbosity", "parallel_tool_calls"], _vllm_extra),
            overflow=_vllm_overflow),
    Profile("vllm-old", check=_reject_fields(["stream_options", "reasoning_effort", "verbosity",
                                               "parallel_tool_calls", "max_completion_tokens"], _vllm_extra),
            honours_include_usage=False, overflow=_vllm_overflow),
    Profile("lmstudio", check=_lmstudio, overflow=_lmstudio_overflow),
    Profile("llamacpp", overflow=_llamacpp_overflow),
    Profile("gemini", check=_gemini_none),
)}


def overflow(profile: str = "openai", n_prompt: int = 200000, window: int = 128000) -> Response:
    """That server's context-overflow error, worded as it words it."""
    return PROFILES[profile].overflow(n_prompt, window)


# ----------------------------------------------------------------------------------------------
# Rendering


_REASONS = {200: "OK", 301: "Moved Permanently", 302: "Found", 307: "Temporary Redirect", 308: "Permanent Redirect", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
            408: "Request Timeout", 413: "Payload Too Large", 422: "Unprocessable Entity",
            429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway",
            503: "Service Unavailable", 504: "Gateway Timeout", 529: "Overloaded"}


def _flood_parts(head: bytes, piece: bytes, total: int | None) -> Iterable[bytes]:
    left = total
    for part in ([head] if head else []):
        yield part[:left] if left is not None else part
        left = None if left is None else left - len(part)
    while left is None or left > 0:
        yield piece if left is None or left >= len(piece) else piece[:left]
        left = None if left is None else left - len(piece)


def _packer(encoding: str | None) -> Callable[[bytes], bytes]:
    if encoding is None:
        return lambda b: b
    z = zlib.compressobj(9, zlib.DEFLATED, 31 if encoding == "gzip" else 15)
    return lambda b: z.compress(b) + z.flush(zlib.Z_SYNC_FLUSH)


@functools.lru_cache(maxsize=8)
def _compressed_flood(head: bytes, piece: bytes, total: int, encoding: str) -> bytes:
    z = zlib.compressobj(9, zlib.DEFLATED, 31 if encoding == "gzip" else 15)
    return b"".join([*(z.compress(p) for p in _flood_parts(head, piece, total)), z.flush()])


def _head(status: int, headers: dict[str, str]) -> bytes:
    lines = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Status')}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _chunk(model: str, delta: dict[str, Any] | None = None, finish: str | None = None,
           usage: dict[str, Any] | None = None, empty_choices: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 1700000000,
                           "model": model}
    out["choices"] = [] if empty_choices else [{"index": 0, "delta": delta or {}, "logprobs": None,
                                                "finish_reason": finish}]
    if usage is not None:
        out["usage"] = usage
    return out


def _usage(prompt: int, completion: int) -> dict[str, Any]:
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def render_reply(r: Reply, req: Recorded, profile: Profile | None) -> Response:
    body = req.json if isinstance(req.json, dict) else {}
    model = r.model or str(body.get("model") or "fake-model")
    calls = [_norm_call(c, i) for i, c in enumerate(r.tool_calls)]
    finish = ("tool_calls" if calls else "stop") if r.finish_reason is AUTO else r.finish_reason
    text_pieces = _split(r.text, r.chunks)
    reasoning_pieces = _split(r.reasoning, r.chunks)
    completion_tokens = max(1, len(text_pieces) + len(reasoning_pieces) + 3 * len(calls))
    if r.usage is AUTO:
        asked = bool((body.get("stream_options") or {}).get("include_usage"))
        honours = profile.honours_include_usage if profile else True
        unasked = profile.usage_unasked if profile else False
        if not (r.force_stream or req.stream) or (asked and honours) or unasked:
            prompt = fake_prompt_tokens(body)
            if profile is not None and profile.truncate_at is not None:
                prompt = min(prompt, profile.truncate_at)
            usage = _usage(prompt, completion_tokens)
        else:
            usage = None
    else:
        usage = r.usage
    if not (r.force_stream or req.stream):
        return JSONResponse(chat_completion(r.text, model=model, tool_calls=calls, finish_reason=finish, usage=usage,
                                            reasoning=r.reasoning, reasoning_field=r.reasoning_field), 200,
                            dict(r.headers))
    items: list[Any] = [Comment(c.lstrip(": ").rstrip()) if c.startswith(":") else Comment(c) for c in r.comments]
    if profile:
        items += [Comment(c.lstrip(": ")) for c in profile.comments]
    chunks: list[dict[str, Any]] = []
    if r.role_chunk:
        chunks.append(_chunk(model, {"role": "assistant", "content": ""}))
    for p in reasoning_pieces:
        chunks.append(_chunk(model, {r.reasoning_field: p}))
    for p in text_pieces:
        chunks.append(_chunk(model, {"content": p}))
    frags: list[list[dict[str, Any]]] = []
    for i, c in enumerate(calls):
        a = c["arguments"]
        third = max(1, len(a) // 3)
        parts = [a[:third], a[third:2 * third], a[2 * third:]] if len(a) > 2 else [a]
        fl = [{"index": i, "id": c["id"], "type": "function", "function": {"name": c["name"], "arguments": ""}}]
        fl += [{"index": i, "function": {"arguments": p}} for p in parts if p]
        frags.append(fl)
    if r.interleave:
        for step in range(max((len(f) for f in frags), default=0)):
            for f in frags:
                if step < len(f):
                    chunks.append(_chunk(model, {"tool_calls": [f[step]]}))
    else:
        for f in frags:
            for frag in f:
                chunks.append(_chunk(model, {"tool_calls": [frag]}))
    chunks.append(_chunk(model, {}, finish))
    if usage is not None:
        chunks.append(_chunk(model, usage=usage, empty_choices=True))
    done = r.done
    if r.cut_after is not None:
        chunks = chunks[:r.cut_after]
        done = False
    for ch in chunks:
        if r.delay:
            items.append(Delay(r.delay))
        items.append(ch)
    if r.cut_after is not None:
        items.append(Close())
    return SSE(items, done=done, headers=dict(r.headers), line_ending=r.line_ending)


def sse_bytes(items: list[Any], *, done: bool = True, line_ending: str = "\n") -> list[bytes | Delay | Close]:
    """The body of an SSE stream as a list of writes (bytes) and control steps."""
    nl = line_ending
    out: list[bytes | Delay | Close] = []
    for it in items:
        if isinstance(it, dict | list):
            out.append(f"data: {json.dumps(it)}{nl}{nl}".encode())
        elif isinstance(it, Raw):
            out.append(it.text.encode())
        elif isinstance(it, Comment):
            out.append(f": {it.text}{nl}{nl}".encode())
        elif isinstance(it, Delay | Close):
            out.append(it)
        elif isinstance(it, str):
            out.append(f"data: {it}{nl}{nl}".encode())
        else:
            raise TypeError(f"unknown SSE item {it!r}")
    if done:
        out.append(f"data: [DONE]{nl}{nl}".encode())
    return out


# ----------------------------------------------------------------------------------------------
# The server


def wire_of(path: str) -> str | None:
    """The native wire a model endpoint belongs to (None: Chat Completions or no model endpoint)."""
    if path.endswith("/messages"):
        return "anthropic"
    if path.endswith("/responses"):
        return "responses"
    if path.endswith((":streamGenerateContent", ":generateContent")):
        return "gemini"
    return None


class _Stopped(Exception):
    pass


class _Handler(socketserver.BaseRequestHandler):
    server: _TCPServer

    def handle(self) -> None:
        sock: socket.socket = self.request
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        fake = self.server.fake
        fake._track(sock, True)
        rfile = sock.makefile("rb")
        try:
            while not fake._stop.is_set():
                req = self._read_request(rfile)
                if req is None:
                    return
                keep = fake._dispatch(sock, req)
                if not keep or req.headers.get("connection", "").lower() == "close":
                    return
        except (OSError, _Stopped, ValueError):
            return
        finally:
            fake._track(sock, False)
            with contextlib.suppress(OSError):
                rfile.close()
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def _read_request(self, rfile: Any) -> Recorded | None:
        line = rfile.readline(65537)
        while line in (b"\r\n", b"\n"):
            line = rfile.readline(65537)
        if not line:
            return None
        parts = line.decode("latin-1").split()
        if len(parts) < 2:
            raise ValueError("bad request line")
        method, path = parts[0], parts[1]
        headers: dict[str, str] = {}
        while True:
            h = rfile.readline(65537)
            if h in (b"\r\n", b"\n", b""):
                break
            k, _, v = h.decode("latin-1").partition(":")
            headers[k.strip().lower()] = v.strip()
        body = b""
        if headers.get("transfer-encoding", "").lower() == "chunked":
            while True:
                size = int(rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                body += rfile.read(size)
                rfile.readline()
        elif "content-length" in headers:
            body = rfile.read(int(headers["content-length"]))
        parsed: Any = None
        if body:
            try:
                parsed = json.loads(body)
            except ValueError:
                parsed = None
        target, _, query = path.partition("?")
        return Recorded(method, target, headers, body, parsed, time.monotonic(), query)


class _TCPServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    fake: FakeServer


class FakeServer:
    """See the module docstring."""

    def __init__(self, profile: str | Profile | None = None, *, models: list[str] | None = None) -> None:
        self.requests: list[Recorded] = []
        self.queue: deque[Responder] = deque()
        self.default: Responder | None = None
        self.models: list[str] = list(models or ["fake-model"])
        self.require_key: str | None = None
        # Gateways: every request must carry these headers (lower-case names) and query parameters.
        self.require_headers: dict[str, str] = {}
        self.require_query: dict[str, str] = {}
        # How a wrong or missing key is answered (default: OpenAI's 401).
        self.auth_error: Callable[[Recorded], Any] | None = None
        self.routes: dict[tuple[str, str], Responder] = {}
        self.connections = 0
        self.profile: Profile | None = None
        self.use_profile(profile)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._socks: set[socket.socket] = set()
        self._srv = _TCPServer(("127.0.0.1", 0), _Handler)
        self._srv.fake = self
        self.host, self.port = self._srv.server_address[:2]
        self._thread = threading.Thread(target=self._srv.serve_forever, kwargs={"poll_interval": 0.01},
                                        daemon=True, name="fake-llm-server")
        self._thread.start()

    # -- public API -------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def root_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def use_profile(self, profile: str | Profile | None) -> None:
        if isinstance(profile, str) and profile not in PROFILES:
            from support.wires import WIRE_PROFILES  # the native wires' services (Anthropic, Gemini)

            profile = WIRE_PROFILES[profile]
        self.profile = PROFILES[profile] if isinstance(profile, str) else profile

    def enqueue(self, *responses: Responder) -> FakeServer:
        self.queue.extend(responses)
        return self

    def route(self, method: str, path: str, response: Responder) -> None:
        self.routes[(method.upper(), path)] = response

    @property
    def chat_requests(self) -> list[Recorded]:
        return [r for r in self.requests if r.path.endswith("/chat/completions") or wire_of(r.path) is not None]

    @property
    def last(self) -> Recorded:
        return self.chat_requests[-1]

    def close(self) -> None:
        self._stop.set()
        self._srv.shutdown()
        self._srv.server_close()
        with self._lock:
            socks = list(self._socks)
        for s in socks:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
        self._thread.join(timeout=5)

    def __enter__(self) -> FakeServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- internals --------------------------------------------------------------------------

    def _track(self, sock: socket.socket, add: bool) -> None:
        with self._lock:
            if add:
                self._socks.add(sock)
                self.connections += 1
            else:
                self._socks.discard(sock)

    def _sleep(self, seconds: float) -> None:
        if self._stop.wait(seconds):
            raise _Stopped

    def _choose(self, req: Recorded) -> Any:
        from urllib.parse import parse_qs

        query = parse_qs(req.query)
        for name, value in self.require_query.items():
            if query.get(name) != [value]:
                # Azure OpenAI's answer to a request without its api-version
                return error(404 if name in query else 400, {"error": {
                    "code": "MissingApiVersionParameter" if name not in query else "404",
                    "message": f"The {name} query parameter (?{name}=) is required for all requests."
                    if name not in query else "Resource not found"}})
        for name, value in self.require_headers.items():
            if req.headers.get(name.lower()) != value:
                return error(401, {"error": {"code": "401", "message": "Access denied due to invalid subscription "
                                             f"key or wrong API endpoint (header {name} missing or wrong)."}})
        if self.require_key is not None and req.headers.get("authorization") != f"Bearer {self.require_key}":
            if self.auth_error is not None:
                return self.auth_error(req)
            return openai_error(401, "Incorrect API key provided. You can find your API key at "
                                "https://platform.openai.com/account/api-keys.", type="invalid_request_error",
                                code="invalid_api_key")
        route = self.routes.get((req.method, req.path))
        if route is not None:
            return route
        if req.method == "GET" and req.path.endswith("/models"):
            return JSONResponse({"object": "list", "data": [
                {"id": m, "object": "model", "created": 1700000000, "owned_by": "fake"} for m in self.models]})
        if not req.path.endswith("/chat/completions") and wire_of(req.path) is None:
            return error(404, {"error": {"message": f"Unknown request URL: {req.method} {req.path}",
                                         "type": "invalid_request_error", "code": "unknown_url"}})
        if req.method != "POST":
            return error(405, {"error": {"message": "Method not allowed"}})
        if req.json is None:
            return openai_error(400, "We could not parse the JSON body of your request.")
        prof = self.profile
        if prof is not None:
            rejected = prof.check(req.json)
            if rejected is not None:
                return rejected
            n = fake_prompt_tokens(req.json)
            if n > prof.context_window:
                return prof.overflow(n, prof.context_window)
        with self._lock:
            if self.queue:
                return self.queue.popleft()
        if self.default is not None:
            return self.default
        return error(500, {"error": {"message": "fake server: the script has no response left for this request",
                                     "type": "server_error"}})

    def _dispatch(self, sock: socket.socket, req: Recorded) -> bool:
        with self._lock:
            self.requests.append(req)
        resp: Any = self._choose(req)
        for _ in range(5):  # callables may return callables or plain dicts
            if callable(resp) and not isinstance(resp, type):
                resp = resp(req)
            elif isinstance(resp, dict):
                resp = JSONResponse(resp)
            else:
                break
        if isinstance(resp, Reply):
            if wire_of(req.path) is not None:
                from support.wires import render

                resp = render(resp, req)
            else:
                resp = render_reply(resp, req, self.profile)
        if isinstance(resp, JSONResponse):
            body = json.dumps(resp.body).encode()
            headers = {"Content-Type": "application/json", "Content-Length": str(len(body)), **resp.headers}
            sock.sendall(_head(resp.status, headers) + body)
            return True
        if isinstance(resp, ErrorResponse):
            if resp.body is None:
                body = b""
                ctype = resp.content_type or "application/json"
            elif isinstance(resp.body, str):
                body = resp.body.encode()
                ctype = resp.content_type or ("text/html" if resp.body.lstrip().startswith("<") else "text/plain")
            else:
                body = json.dumps(resp.body).encode()
                ctype = resp.content_type or "application/json"
            headers = {"Content-Type": ctype, "Content-Length": str(len(body))}
            if resp.retry_after is not None:
                headers["Retry-After"] = str(resp.retry_after)
            headers.update(resp.headers)
            sock.sendall(_head(resp.status, headers) + body)
            return True
        if isinstance(resp, Hang):
            self._sleep(resp.seconds)
            return False
        if isinstance(resp, Reset):
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            return False
        if isinstance(resp, SSE):
            return self._send_sse(sock, resp)
        if isinstance(resp, Flood):
            return self._send_flood(sock, resp)
        raise TypeError(f"fake server: cannot send {resp!r}")

    def _send_flood(self, sock: socket.socket, resp: Flood) -> bool:
        headers = {"Content-Type": resp.content_type}
        if resp.encoding:
            headers["Content-Encoding"] = resp.encoding
        headers.update(resp.headers)
        if resp.encoding and resp.total is not None:
            body = _compressed_flood(resp.head, resp.piece, resp.total, resp.encoding)
            headers["Content-Length"] = str(len(body))
            sock.sendall(_head(resp.status, headers) + body)
            return True
        headers["Transfer-Encoding"] = "chunked"
        sock.sendall(_head(resp.status, headers))
        packer = _packer(resp.encoding)
        try:
            for part in _flood_parts(resp.head, resp.piece, resp.total):
                if self._stop.is_set():
                    return False
                data = packer(part)
                if data:
                    sock.sendall(b"%x\r\n%s\r\n" % (len(data), data))
        except OSError:
            return False  # the client hung up: what a bounded client does
        sock.sendall(b"0\r\n\r\n")
        return True

    def _send_sse(self, sock: socket.socket, resp: SSE) -> bool:
        chunked = resp.framing == "chunked"
        headers = {"Content-Type": "text/event-stream; charset=utf-8", "Cache-Control": "no-cache"}
        if chunked:
            headers["Transfer-Encoding"] = "chunked"
        else:
            headers["Connection"] = "close"
        headers.update(resp.headers)
        steps = sse_bytes(resp.items, done=resp.done, line_ending=resp.line_ending)
        if resp.split_at is not None or resp.write_size:
            data = b"".join(s for s in steps if isinstance(s, bytes))
            cuts = sorted(set(resp.split_at or []) | set(
                range(resp.write_size, len(data), resp.write_size) if resp.write_size else []))
            cuts = [c for c in cuts if 0 < c < len(data)]
            steps = []
            prev = 0
            for c in [*cuts, len(data)]:
                if resp.write_delay and steps:
                    steps.append(Delay(resp.write_delay))
                steps.append(data[prev:c])
                prev = c
        elif resp.write_delay:
            spaced: list[bytes | Delay | Close] = []
            for s in steps:
                if spaced:
                    spaced.append(Delay(resp.write_delay))
                spaced.append(s)
            steps = spaced
        head = _head(resp.status, headers)
        first = True
        for step in steps:
            if isinstance(step, Delay):
                self._sleep(step.seconds)
                continue
            if isinstance(step, Close):
                if first:
                    sock.sendall(head)
                return False
            if resp.delay and not first:
                self._sleep(resp.delay)
            payload = (b"%x\r\n" % len(step)) + step + b"\r\n" if chunked else step
            sock.sendall(head + payload if first else payload)
            first = False
        tail = b"0\r\n\r\n" if chunked else b""
        if first:
            sock.sendall(head + tail)
        elif chunked:
            sock.sendall(tail)
        return chunked


# ----------------------------------------------------------------------------------------------
# Local servers and proxies: their discovery endpoints, in the shapes the real ones answer with
# (Ollama's /api/show and /api/ps, LM Studio's /api/v0/models, vLLM's /v1/models with
# max_model_len, LiteLLM's /model/info), installed on a FakeServer.


def _listing(ids: Iterable[str], owned_by: str, **extra: Any) -> dict[str, Any]:
    return {"object": "list", "data": [{"id": i, "object": "model", "created": 1700000000, "owned_by": owned_by,
                                        **extra.get(i, {})} for i in ids]}


def as_ollama(server: FakeServer, models: dict[str, dict[str, Any]], *, version: str = "0.12.6",
              loaded: dict[str, int] | None = None, truncate_at: int | None = None) -> None:
    """Ollama. Each model: ``capabilities`` (list), ``num_ctx`` (in its parameters, or None),
    ``context_length`` (the GGUF's trained window) and ``arch``. ``loaded`` maps names to the
    context_length /api/ps reports; ``truncate_at`` cuts prompts silently at that many tokens."""
    server.models = list(models)
    server.route("GET", "/v1/models", _listing(models, "library"))
    server.route("GET", "/api/version", {"version": version})
    server.route("GET", "/api/ps", {"models": [
        {"name": n, "model": n, "size": 1, "digest": "0" * 64, "expires_at": "2026-01-01T00:00:00Z",
         "size_vram": 1, "context_length": c} for n, c in (loaded or {}).items()]})

    def show(req: Recorded) -> Any:
        name = req.json.get("model") if isinstance(req.json, dict) else None
        spec = models.get(name) if isinstance(name, str) else None
        if spec is None:
            return error(404, {"error": f"model '{name}' not found"})
        arch = spec.get("arch", "llama")
        params = 'stop                           "<|im_end|>"\ntemperature                    0.6'
        if spec.get("num_ctx"):
            params = f"num_ctx                        {spec['num_ctx']}\n" + params
        return {
            "modelfile": f"# Modelfile generated by \"ollama show\"\nFROM {name}\n",
            "parameters": params,
            "template": "{{ .Prompt }}",
            "details": {"parent_model": "", "format": "gguf", "family": arch, "families": [arch],
                        "parameter_size": "8.2B", "quantization_level": "Q4_K_M"},
            "model_info": {"general.architecture": arch, "general.parameter_count": 8190735360,
                           f"{arch}.context_length": spec.get("context_length", 40960),
                           f"{arch}.embedding_length": 4096, f"{arch}.block_count": 36},
            "capabilities": spec.get("capabilities", ["completion"]),
            "modified_at": "2025-10-01T12:00:00.000000000Z",
        }

    server.route("POST", "/api/show", show)
    server.use_profile(Profile("ollama", context_window=10**9, truncate_at=truncate_at))


def as_lmstudio(server: FakeServer, models: list[dict[str, Any]]) -> None:
    """LM Studio. Each model is a /api/v0/models item (``id``, ``type``, ``state``,
    ``max_context_length``, optionally ``loaded_context_length`` and ``capabilities``)."""
    items = [{"object": "model", "publisher": "lmstudio-community", "arch": "qwen3", "compatibility_type": "gguf",
              "quantization": "Q4_K_M", "state": "not-loaded", **m} for m in models]
    server.models = [m["id"] for m in models]
    server.route("GET", "/v1/models", _listing(server.models, "organization_owner"))
    server.route("GET", "/api/v0/models", {"object": "list", "data": items})
    server.use_profile("lmstudio")


def as_vllm(server: FakeServer, models: dict[str, int]) -> None:
    """vLLM: /v1/models carries each model's max_model_len."""
    server.models = list(models)
    server.route("GET", "/v1/models", _listing(models, "vllm", **{
        i: {"root": i, "parent": None, "max_model_len": n, "permission": [{
            "id": "modelperm-0", "object": "model_permission", "created": 1700000000, "allow_create_engine": False,
            "allow_sampling": True, "allow_logprobs": True, "allow_search_indices": False, "allow_view": True,
            "allow_fine_tuning": False, "organization": "*", "group": None, "is_blocking": False}]}
        for i, n in models.items()}))
    server.use_profile("vllm")


def as_litellm(server: FakeServer, models: dict[str, dict[str, Any]], *, master_key: str | None = None) -> None:
    """A LiteLLM proxy. Each model maps to the model_info LiteLLM reports for it (missing keys are
    null, as for a model LiteLLM has no price map entry for)."""
    server.models = list(models)
    server.route("GET", "/v1/models", _listing(models, "openai"))
    fields = ("max_tokens", "max_input_tokens", "max_output_tokens", "supports_function_calling",
              "supports_parallel_function_calling", "supports_vision", "supports_response_schema",
              "supports_reasoning", "supports_tool_choice", "input_cost_per_token", "output_cost_per_token",
              "cache_read_input_token_cost")
    server.route("GET", "/model/info", {"data": [
        {"model_name": name, "litellm_params": {"model": f"openai/{name}", "api_base": "http://127.0.0.1:8080/v1"},
         "model_info": {"id": f"{n:032x}", "db_model": False, "key": name, "litellm_provider": "openai",
                        "mode": info.get("mode", "chat"), **{f: info.get(f) for f in fields}}}
        for n, (name, info) in enumerate(models.items())]})
    if master_key is not None:
        server.require_key = master_key
        server.auth_error = lambda req: litellm_auth_error(req.headers.get("authorization", ""))


def as_openrouter(server: FakeServer, models: dict[str, dict[str, Any]]) -> None:
    """OpenRouter: ``/v1/models`` items carry ``context_length``, ``architecture``, ``top_provider``,
    ``supported_parameters`` and ``pricing`` (USD per token, as strings). Each model maps to the
    fields to set; ``pricing`` replaces the default one (Claude Sonnet's) when given."""
    server.models = list(models)
    default_pricing = {"prompt": "0.000003", "completion": "0.000015", "request": "0", "image": "0.0048",
                       "web_search": "0", "internal_reasoning": "0", "input_cache_read": "0.0000003",
                       "input_cache_write": "0.00000375"}
    server.route("GET", "/v1/models", {"data": [{
        "id": name, "canonical_slug": name, "name": name.split("/")[-1], "created": 1700000000,
        "description": "A model.", "context_length": spec.get("context_length", 200000),
        "architecture": {"modality": "text+image->text", "input_modalities": ["text", "image"],
                         "output_modalities": ["text"], "tokenizer": "Other", "instruct_type": None},
        "pricing": spec.get("pricing", default_pricing),
        "top_provider": {"context_length": spec.get("context_length", 200000),
                         "max_completion_tokens": spec.get("max_completion_tokens", 64000), "is_moderated": False},
        "per_request_limits": None,
        "supported_parameters": spec.get("supported_parameters", ["max_tokens", "temperature", "tools",
                                                                 "tool_choice", "response_format", "reasoning"]),
    } for name, spec in models.items()]})
    server.use_profile("openrouter")


def litellm_auth_error(sent: str) -> ErrorResponse:
    """LiteLLM's 401 for a wrong key: it echoes the key's last characters back."""
    return error(401, {"error": {"message": "Authentication Error, Invalid proxy server token passed. Received "
                                 f"API Key = sk-...{sent[-4:]}, Key Hash (Token) ={'ab12' * 16}. Unable to find "
                                 "token in cache or `LiteLLM_VerificationTokenTable`",
                                 "type": "auth_error", "param": "None", "code": "401"}})


def litellm_no_db() -> ErrorResponse:
    """The LiteLLM proxy (1.108) without a key database, to a key that is not its master key, on
    every endpoint (chat/completions, messages, responses, models), byte for byte."""
    return error(400, '{"error":{"message":"No connected db.","type":"no_db_connection","param":null,"code":"400"}}',
                 content_type="application/json")


def litellm_no_key() -> ErrorResponse:
    """The LiteLLM proxy (1.108) with a master key, to a request without any key: its framework's
    bare 500, byte for byte."""
    return error(500, "Internal Server Error", content_type="text/plain; charset=utf-8")


def litellm_messages_stream(words: list[str], *, input_tokens: int, cache_read: int) -> SSE:
    """The LiteLLM proxy's ``/v1/messages`` stream for an OpenAI-compatible model behind it (1.108,
    in front of llama.cpp): the usage is zero in message_start and comes whole in message_delta,
    the proxy's own events have spaces after their separators, and the stop is ``end_turn``
    even when the token limit cut the answer."""
    def ev(name: str, data: str) -> Raw:
        return Raw(f"event: {name}\ndata: {data}\n\n")
    start = ('{"type":"message_start","message":{"id":"msg_cb5d341d-234a-4d98-bd93-7eb59d76cc7a","type":"message",'
             '"role":"assistant","content":[],"model":"tiny","stop_reason":null,"stop_sequence":null,"usage":'
             '{"input_tokens":0,"output_tokens":0,"cache_creation_input_tokens":0,"cache_read_input_tokens":0}}}')
    items: list[Any] = [ev("message_start", start), ev("content_block_start", json.dumps(
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}))]
    items += [ev("content_block_delta", json.dumps({"type": "content_block_delta", "index": 0,
                                                    "delta": {"type": "text_delta", "text": w}})) for w in words]
    items += [ev("content_block_stop", '{"type": "content_block_stop", "index": 0}'),
              ev("message_delta", json.dumps({"type": "message_delta", "delta": {"stop_reason": "end_turn",
                                                                                 "stop_sequence": None},
                                              "usage": {"input_tokens": input_tokens, "output_tokens": len(words),
                                                        "cache_read_input_tokens": cache_read}})),
              ev("message_stop", '{"type": "message_stop"}')]
    return SSE(items, done=False)


def litellm_responses_stream(words: list[str], *, input_tokens: int, cached: int) -> SSE:
    """The LiteLLM proxy's ``/v1/responses`` stream for an OpenAI-compatible model behind it (1.108,
    in front of llama.cpp): ``data:`` lines without ``event:``, a ``model`` field on every event,
    the upstream's ``timings`` beside the completed response, then ``[DONE]``."""
    rid, mid = "resp_1naadrU37j7-lVaeiUHGCSKp7pgGeEp", "msg_SJ2AqrNvUuIc6Ed9dleZVpTBJmEmn7cE"
    text = "".join(words)
    part = {"type": "output_text", "annotations": [], "logprobs": [], "text": text}
    items: list[Any] = [
        Raw(f'data: {{"type":"response.created","response":{{"id":"{rid}","object":"response",'
            f'"status":"in_progress"}},"model":"tiny"}}\n\n'),
        Raw(f'data: {{"type":"response.in_progress","response":{{"id":"{rid}","object":"response",'
            f'"status":"in_progress"}},"model":"tiny"}}\n\n'),
        Raw(f'data: {{"type":"response.output_item.added","item":{{"content":[],"id":"{mid}","role":"assistant",'
            f'"status":"in_progress","type":"message"}},"model":"tiny"}}\n\n'),
        Raw(f'data: {{"type":"response.content_part.added","item_id":"{mid}","part":{{"type":"output_text",'
            f'"text":""}},"model":"tiny"}}\n\n')]
    items += [Raw("data: " + json.dumps({"type": "response.output_text.delta", "item_id": mid, "delta": w,
                                         "model": "tiny"}, separators=(",", ":")) + "\n\n") for w in words]
    done = [{"type": "response.output_text.done", "item_id": mid, "text": text, "model": "tiny"},
            {"type": "response.content_part.done", "item_id": mid, "part": part, "model": "tiny"},
            {"type": "response.output_item.done", "item": {"type": "message", "status": "completed", "id": mid,
                                                           "content": [part], "role": "assistant"}, "model": "tiny"},
            {"type": "response.completed", "response": {
                "id": rid, "created_at": 1796472093, "model": "smollm2", "object": "response",
                "output": [{"id": mid, "content": [part], "role": "assistant", "status": "completed",
                            "type": "message"}], "status": "completed",
                "usage": {"input_tokens": input_tokens, "input_tokens_details": {"cached_tokens": cached},
                          "output_tokens": len(words), "total_tokens": input_tokens + len(words)}},
             "timings": {"cache_n": cached, "prompt_n": input_tokens - cached}, "model": "tiny"}]
    items += [Raw("data: " + json.dumps(d, separators=(",", ":")) + "\n\n") for d in done]
    return SSE(items, done=True)


def think_reply(thinking: str, answer: str, *, tag: str = "think", chunks: int | None = None, **kw: Any) -> Reply:
    """A model that inlines its reasoning in content (DeepSeek-R1 distills, QwQ, Qwen3 without a parser)."""
    return Reply(text=f"<{tag}>{thinking}</{tag}>\n\n{answer}", chunks=chunks, **kw)
