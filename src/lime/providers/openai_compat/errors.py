"""What went wrong talking to a service, in words a user can act on.

Servers disagree on everything here: the shape of an error body (``{"error": {...}}``, ``{"error":
"..."}``, ``{"message": ...}``, FastAPI ``{"detail": [...]}``, a list, an HTML page from a proxy, plain
text, nothing at all) and the wording of a context overflow. ``classify`` reads whatever came back
and turns it into one :class:`ProviderError` whose message names the service and model and never
carries the API key, even when the server echoes it.
"""

from __future__ import annotations

import html
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from lime import jsonguard
from lime.errors import LimeError
from lime.providers.openai_compat import quirks
from lime.providers.openai_compat.types import Completion
from lime.urls import is_loopback_host

KINDS = ("auth", "permission", "not_found", "rate_limit", "server", "timeout", "connection", "bad_request",
         "too_large", "context_overflow", "bad_response", "response_too_large")
RETRYABLE_KINDS = frozenset({"rate_limit", "server", "timeout", "connection"})


class ProviderError(LimeError):
    """A failed request. ``kind`` is one of :data:`KINDS`; ``partial`` keeps what streamed before it failed."""

    def __init__(self, message: str, *, kind: str, status: int | None = None, retryable: bool | None = None,
                 partial: Completion | None = None, retry_after: float | None = None, service: str = "",
                 model: str = "", server_message: str = "", hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.kind = kind
        self.status = status
        self.retryable = kind in RETRYABLE_KINDS if retryable is None else retryable
        self.partial = partial
        self.retry_after = retry_after
        self.service = service
        self.model = model
        self.server_message = server_message


class ContextOverflowError(ProviderError):
    """The prompt (plus the requested output) does not fit the model's window: compact, then retry."""

    def __init__(self, message: str, *, n_prompt: int | None = None, n_ctx: int | None = None,
                 **kw: Any) -> None:
        kw.setdefault("kind", "context_overflow")
        kw.setdefault("retryable", False)
        super().__init__(message, **kw)
        self.n_prompt = n_prompt
        self.n_ctx = n_ctx


class BadResponse(ValueError):
    """A reply lime cannot use (a field of the wrong shape, JSON nested too deep, a number out of
    range). The parsers raise it without knowing the service; :func:`bad_response` names it."""

    kind = "bad_response"

    def __init__(self, detail: str, field: str = "") -> None:
        super().__init__(f"`{field}` {detail}" if field else detail)
        self.detail = detail
        self.field = field


class ResponseTooLarge(BadResponse):
    """The server sent more than a bound allows (answer, event-stream line, body)."""

    kind = "response_too_large"

    def __init__(self, what: str, limit: int, knob: str) -> None:
        super().__init__(f"{what} exceeds {_size(limit)} (raise {knob} to allow more)")
        self.limit = limit
        self.knob = knob


def _size(n: int) -> str:
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= scale and n % scale == 0:
            return f"{n // scale} {unit}"
    return f"{n} bytes"


def bad_response(exc: BadResponse, *, service: str, model: str, status: int | None = None) -> ProviderError:
    """The user-facing error for a reply lime could not use; never retried (the server meant it)."""
    who = _who(service, model)
    if isinstance(exc, ResponseTooLarge):
        msg = f"{who}: stopped reading the response: {exc}"
    else:
        msg = f"{who}: malformed response: {exc}"
    return ProviderError(msg, kind=exc.kind, status=status, retryable=False, service=service, model=model)


# ----------------------------------------------------------------------------------------------
# Secrets

_KEYLIKE = re.compile(r"\b((?:sk|gsk|xai|csk|nvapi|pplx|sk-or|sk-proj|key)[-_][A-Za-z0-9_\-*.]{8,})")


def scrub(text: str, secrets: tuple[str, ...] | list[str] = ()) -> str:
    """Remove every secret (any run of 8+ of its characters, and anything shaped like an API key)
    from text meant for the user."""
    from lime.auth.masking import mask_key, redact

    return _KEYLIKE.sub(lambda m: mask_key(m.group(1)), redact(text, secrets))


# ----------------------------------------------------------------------------------------------
# Reading error bodies


@dataclass
class ErrorBody:
    """What an error response said, whatever its shape: the message and what it names."""

    message: str
    code: str | None = None
    type: str | None = None
    param: str | None = None
    data: Any = None  # the parsed JSON, if any
    fields: tuple[str, ...] = ()  # body fields a validator named (pydantic-style "loc")


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    return json.dumps(value, ensure_ascii=False)


def _detail_list(items: list[Any]) -> tuple[str, tuple[str, ...]]:
    msgs: list[str] = []
    fields: list[str] = []
    for it in items:
        if not isinstance(it, dict):
            msgs.append(_text(it))
            continue
        loc = it.get("loc")
        path = [str(p) for p in loc] if isinstance(loc, list | tuple) else []
        if path and path[0] == "body":
            path = path[1:]
        if path:
            fields.append(".".join(path))
        msgs.append(f"{it.get('msg', it.get('type', 'invalid'))}: {'.'.join(path)}" if path else _text(it.get("msg")))
    return "; ".join(m for m in msgs if m), tuple(fields)


def parse_error_body(raw: bytes, content_type: str = "") -> ErrorBody:
    text = raw.decode("utf-8", "replace").strip()
    if not text:
        return ErrorBody("")
    data: Any
    try:
        data = jsonguard.loads(text)
    except ValueError:
        data = None
    if data is None:
        if "html" in content_type.lower() or text.lstrip().startswith("<"):
            m = re.search(r"<title[^>]*>(.*?)</title>", text, re.I | re.S) or re.search(
                r"<h1[^>]*>(.*?)</h1>", text, re.I | re.S)
            inner = m.group(1) if m else re.sub(r"<[^>]+>", " ", text)
            msg = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", inner)).split())
            return ErrorBody(f"(HTML page) {msg[:200]}".strip())
        first = " ".join(text.split())
        return ErrorBody(first[:300])
    body = _from_json(data)
    body.message = " ".join(body.message.split())  # one line, whatever the JSON held
    return body


def _from_json(data: Any) -> ErrorBody:
    if isinstance(data, list):
        inner = next((d for d in data if isinstance(d, dict)), None)
        if inner is None:
            return ErrorBody(_text(data)[:300], data=data)
        body = _from_json(inner)
        body.data = data
        return body
    if not isinstance(data, dict):
        return ErrorBody(_text(data)[:300], data=data)
    err = data.get("error")
    fields: tuple[str, ...] = ()
    code = type_ = param = None
    if isinstance(err, dict):
        msg_val = err.get("message", err.get("msg", ""))
        code, type_, param = err.get("code"), err.get("type"), err.get("param")
        if isinstance(msg_val, dict | list):
            msg, fields = _nested(msg_val)
        else:
            msg = _text(msg_val)
        if not msg:
            msg = _text(err)
    elif isinstance(err, str):
        msg = err
        code, type_ = data.get("code"), data.get("type")
    else:
        msg_val = data.get("message", data.get("detail", data.get("msg", "")))
        code, type_, param = data.get("code"), data.get("type"), data.get("param")
        msg, fields = _nested(msg_val) if isinstance(msg_val, dict | list) else (_text(msg_val), ())
        if not msg:
            msg = _text(data)
    if isinstance(data.get("detail"), list) and not fields:
        _, fields = _detail_list(data["detail"])
    # vLLM / old FastAPI servers and llama-cpp-python put a stringified pydantic error list in "message".
    if not fields and "'loc': ('body', '" in msg:
        fields = tuple(m.group(1) for m in re.finditer(r"'loc': \('body', '([^']+)'", msg))
    return ErrorBody(" ".join(msg.split())[:600], None if code is None else str(code),
                     None if type_ is None else str(type_), None if param is None else str(param), data, fields)


def _nested(value: Any) -> tuple[str, tuple[str, ...]]:
    if isinstance(value, dict):
        if isinstance(value.get("detail"), list):
            return _detail_list(value["detail"])
        if "message" in value:
            return _text(value["message"]), ()
        return _text(value), ()
    if isinstance(value, list):
        return _detail_list(value)
    return _text(value), ()


# ----------------------------------------------------------------------------------------------
# Context overflow

def looks_like_overflow(message: str, code: str | None = None, type_: str | None = None) -> bool:
    if code in quirks.OVERFLOW_CODES or type_ in quirks.OVERFLOW_TYPES:
        return True
    if quirks.rate_limit_words().search(message) and "context" not in message.lower():
        return False
    return bool(quirks.overflow_phrase().search(message))


def overflow_numbers(message: str, data: Any = None) -> tuple[int | None, int | None]:
    if isinstance(data, dict) and isinstance(data.get("error"), dict):
        e = data["error"]
        if isinstance(e.get("n_prompt_tokens"), int) and isinstance(e.get("n_ctx"), int):
            return e["n_prompt_tokens"], e["n_ctx"]
    for pat in quirks.overflow_counts():
        m = pat.search(message)
        if m:
            return int(m["prompt"]), int(m["window"])
    return None, None


# ----------------------------------------------------------------------------------------------
# Classification


def parse_retry_after(value: str | None) -> float | None:
    """``Retry-After``: seconds, or an HTTP date. Nothing usable (negative, NaN, infinite) is ``None``."""
    if not value:
        return None
    value = value.strip()
    try:
        return _seconds(float(value))
    except ValueError:
        pass
    try:
        import email.utils
        import time

        when = email.utils.parsedate_to_datetime(value)
        return _seconds(when.timestamp() - time.time(), floor=True)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def _seconds(value: float, *, floor: bool = False) -> float | None:
    if not math.isfinite(value) or (value < 0 and not floor):
        return None
    return max(0.0, value)


_DURATION = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(h|ms|m|s|us|µs|ns)")
_UNIT = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}


def parse_duration(value: str | None) -> float | None:
    """A Go-style duration as OpenAI's ``x-ratelimit-reset-*`` headers send it (``1s``, ``6m0s``,
    ``20ms``, ``1h2m3.5s``), or plain seconds."""
    if not value:
        return None
    text = value.strip().lower()
    try:
        return _seconds(float(text))
    except ValueError:
        pass
    if len(text) > 64:
        return None
    pos, total = 0, 0.0
    for m in _DURATION.finditer(text):
        if m.start() != pos:
            return None
        total += float(m.group(1)) * _UNIT[m.group(2)]
        pos = m.end()
    return _seconds(total) if pos == len(text) and pos else None


def _header(headers: Mapping[str, str] | Any, name: str) -> str | None:
    """A header as sent, or as LiteLLM forwards a provider's header (``llm_provider-`` prefix)."""
    if headers is None:
        return None
    value = headers.get(name)
    if value is None:
        value = headers.get(quirks.FORWARDED_HEADER_PREFIX + name)
    return value if isinstance(value, str) else None


def retry_hint(headers: Mapping[str, str] | Any, status: int | None = None) -> float | None:
    """Seconds the server asks us to wait, from whichever header it sent.

    ``Retry-After`` (seconds or a date), ``retry-after-ms``, LiteLLM's ``llm_provider-`` copies
    of them; on a 429 also OpenAI's ``x-ratelimit-reset-requests`` / ``-tokens``, the one whose
    ``x-ratelimit-remaining-*`` is exhausted (tokens when neither says so: it is the usual limit).
    """
    for name, unit in quirks.RETRY_HEADERS:
        hint = parse_retry_after(_header(headers, name))
        if hint is not None:
            return hint * unit
    if status != 429:
        return None
    waits = {kind: parse_duration(_header(headers, quirks.RATE_LIMIT_RESET + kind)) for kind in quirks.RATE_LIMITS}
    spent = [kind for kind in waits if (_header(headers, quirks.RATE_LIMIT_REMAINING + kind) or "").strip() == "0"]
    chosen = [waits[k] for k in spent or ["tokens", "requests"] if waits[k] is not None]
    if not chosen:
        return None
    return max(w for w in chosen if w is not None) if spent else chosen[0]


def _who(service: str, model: str) -> str:
    return f"{service} (model {model})" if model else service


def classify(status: int, raw: bytes, headers: dict[str, str] | Any, *, service: str, model: str,
             secrets: tuple[str, ...] = (), login_hint: str | None = None) -> ProviderError:
    """Turn an HTTP error response into the right ProviderError."""
    ctype = headers.get("content-type", "") if headers is not None else ""
    body = parse_error_body(raw, ctype)
    server_msg = scrub(body.message, secrets)
    retry_after = retry_hint(headers, status)
    who = _who(service, model)
    said = f": {server_msg}" if server_msg else ""
    kw: dict[str, Any] = {"status": status, "service": service, "model": model, "server_message": server_msg,
                          "retry_after": retry_after}

    overflow = looks_like_overflow(body.message, body.code, body.type)
    if (status in (400, 413, 422, 500) and overflow) or (status in (400, 413) and not raw.strip()):
        n_prompt, n_ctx = overflow_numbers(body.message, body.data)
        size = f" ({n_prompt} tokens > {n_ctx})" if n_prompt and n_ctx else ""
        why = said or f": HTTP {status} with no body"
        return ContextOverflowError(f"{who}: the conversation exceeds the model's context window{size}{why}",
                                    n_prompt=n_prompt, n_ctx=n_ctx, **kw)
    if status == 401:
        return ProviderError(f"{who}: authentication failed (HTTP 401){said}", kind="auth", hint=login_hint, **kw)
    if quirks.NO_KEY_DB in body.message:
        # LiteLLM ends its sentence ("No connected db.") where lime's explanation goes on
        return ProviderError(f"{who}: the key was refused (HTTP {status}){said.rstrip('.')}: {quirks.NO_KEY_DB_MEANS}",
                             kind="auth", hint=login_hint, **kw)
    if status == 402:
        return ProviderError(f"{who}: payment required (HTTP 402){said}", kind="permission", **kw)
    if status == 403:
        return ProviderError(f"{who}: permission denied (HTTP 403){said}", kind="permission", **kw)
    if status == 404:
        return ProviderError(f"{who}: not found (HTTP 404){said}", kind="not_found",
                             hint="check the model id (--api-id) and the service's base URL", **kw)
    if status == 408:
        return ProviderError(f"{who}: the server timed out (HTTP 408){said}", kind="timeout", **kw)
    if status == 413:
        return ProviderError(f"{who}: request too large (HTTP 413){said}", kind="too_large", **kw)
    if status == 429:
        quota = body.code == "insufficient_quota" or "quota" in body.message.lower() and "exceeded" in \
            body.message.lower()
        return ProviderError(f"{who}: rate limited (HTTP 429){said}", kind="rate_limit",
                             retryable=not quota, **kw)
    if status >= 500:
        return ProviderError(f"{who}: server error (HTTP {status}){said}", kind="server",
                             retryable=status not in (501, 505), **kw)
    return ProviderError(f"{who}: request rejected (HTTP {status}){said}", kind="bad_request", **kw)


# Error codes that name a condition rather than a status (OpenAI, Groq, OpenRouter, LiteLLM).
_CODE_STATUS = {"rate_limit_exceeded": 429, "insufficient_quota": 429, "invalid_api_key": 401,
                "authentication_error": 401, "permission_denied": 403, "model_not_found": 404, "timeout": 408,
                "request_timeout": 408, "server_error": 500, "overloaded": 503, "overloaded_error": 503}


def status_from_code(code: str | None) -> int | None:
    """An error ``code`` read as an HTTP status: ``408`` and ``"408"`` alike (LiteLLM sends strings)."""
    if code is None:
        return None
    text = code.strip()
    if text.isdigit() and len(text) == 3 and text.isascii():
        n = int(text)
        return n if 400 <= n < 600 else None
    return _CODE_STATUS.get(text.lower())


def classify_payload(raw: bytes, headers: Mapping[str, str] | Any, *, service: str, model: str,
                     secrets: tuple[str, ...] = (), login_hint: str | None = None,
                     where: str = "error in stream") -> ProviderError:
    """An error the server reported inside a successful response: an event in the stream, or a JSON
    body with ``error`` and no choices. Its ``code`` (or ``type``) stands for the missing status."""
    body = parse_error_body(raw)
    status = status_from_code(body.code) or status_from_code(body.type) or 500
    err = classify(status, raw, headers, service=service, model=model, secrets=secrets, login_hint=login_hint)
    err.message = err.message.replace(f"(HTTP {status})", f"({where})")
    err.args = (err.message,)
    return err


def transport_error(exc: BaseException, *, service: str, model: str, base_url: str, phase: str,
                    partial: Completion | None = None) -> ProviderError:
    """A network-level failure (no HTTP status): connect/read timeouts, refused or reset connections."""
    name = type(exc).__name__
    detail = str(exc) or name
    who = _who(service, model)
    if name == "TooManyRedirects":  # the server, not the network: asking again loops again
        return ProviderError(f"{who}: the server redirects the request in a loop ({base_url})", kind="bad_response",
                             retryable=False, partial=partial, service=service, model=model)
    if "Timeout" in name:
        kind = "timeout"
        what = "connecting" if "Connect" in name or "Pool" in name else "waiting for data"
        msg = f"{who}: timed out {what} ({base_url})"
    else:
        kind = "connection"
        if phase == "stream":
            msg = f"{who}: connection lost mid-answer ({detail})"
        elif _refused(exc) and is_loopback_host(urlsplit(base_url).hostname or ""):
            # Nothing listens on this machine's port: asking again in a few seconds only makes the
            # user wait (an Ollama or vLLM that is not running does not start by itself).
            msg = f"{who}: nothing is listening at {base_url} (connection refused); is the server running?"
            return ProviderError(msg, kind=kind, retryable=False, partial=partial, service=service, model=model)
        else:
            msg = f"{who}: cannot reach {base_url} ({detail})"
    return ProviderError(msg, kind=kind, partial=partial, service=service, model=model)


def _refused(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    for _ in range(8):  # the OS error sits a few causes down in httpx's chain
        if seen is None:
            break
        if isinstance(seen, ConnectionRefusedError):
            return True
        seen = seen.__cause__ or seen.__context__
    return "connection refused" in str(exc).lower()
