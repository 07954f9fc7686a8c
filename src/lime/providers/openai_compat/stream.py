"""Turning a Chat Completions response (SSE chunks or one JSON body) into events and a Completion.

Tool calls arrive as fragments keyed by ``index``; the id and name usually come only in the first
fragment and the arguments are split anywhere. Not every server keeps OpenAI's index discipline
(some send every call with index 0 and a fresh id, some omit the index), so a fragment with a new
id at an index already holding a complete call starts a new call.
"""

from __future__ import annotations

import json
from json.scanner import make_scanner
from typing import Any

from lime import config, jsonguard
from lime.jsonguard import depth_exceeds
from lime.providers.openai_compat.errors import BadResponse, ResponseTooLarge
from lime.providers.openai_compat.quirks import (
    CHOICE_FIELDS,
    ERROR_KEYS,
    ERROR_OBJECTS,
    REASONING_FIELDS,
    USAGE_CARRIERS,
)
from lime.providers.openai_compat.shapes import count, explain
from lime.providers.openai_compat.sse import SSEDecoder
from lime.providers.openai_compat.think import Piece, ThinkSplitter
from lime.providers.openai_compat.think import split as split_think
from lime.providers.openai_compat.types import (
    Completion,
    FinishEvent,
    ReasoningDelta,
    StreamEvent,
    TextDelta,
    ToolCall,
    ToolCallEvent,
    Usage,
    UsageEvent,
)

_scan = make_scanner(json.JSONDecoder())  # type: ignore[arg-type]  # the C scanner: no sniffing, no regex
_DELTA = CHOICE_FIELDS[0]
_SHALLOW = 2 * jsonguard.MAX_DEPTH  # a shorter payload cannot nest deeper than the limit
_CALL_COST = 64  # what a new tool call counts towards the answer size, however empty


def _deep(payload: bytes) -> bool:
    """Nested past the limit? Counting the brackets first: a payload with few (every usual one)
    cannot be, whatever its length."""
    return payload.count(b"{") + payload.count(b"[") > jsonguard.MAX_DEPTH and depth_exceeds(payload)


class StreamFailure(Exception):
    """The stream itself says the answer failed: a chunk that is not JSON, or an error event."""


class MalformedChunk(StreamFailure, ValueError):
    def __init__(self, payload: bytes) -> None:
        text = payload[:120].decode("utf-8", "replace")
        super().__init__(f"the server sent a stream chunk that is not valid JSON: {text!r}")


class StreamErrorPayload(StreamFailure):
    """The server reported an error inside the stream (``data: {"error": ...}`` or ``event: error``)."""

    def __init__(self, payload: bytes) -> None:
        super().__init__("error event in stream")
        self.payload = payload


class _Call:
    __slots__ = ("args", "id", "name")

    def __init__(self, id: str | None, name: str | None) -> None:
        self.id = id or ""
        self.name = name or ""
        self.args: list[str] = []


def _content_text(c: Any) -> str:
    if isinstance(c, str):
        return c
    if isinstance(c, list):  # content parts
        return "".join(p.get("text", "") for p in c if isinstance(p, dict) and isinstance(p.get("text"), str))
    return ""


def _first(obj: dict[str, Any], keys: tuple[str, ...]) -> Any:
    """The first truthy value among ``keys`` (servers disagree on where a field lives)."""
    for k in keys:
        v = obj.get(k)
        if v:
            return v
    return None


def usage_from(u: Any) -> Usage | None:
    """The server's token counts; None when it sent none. A count that is not a sane whole number
    (``1e999``, ``-3``, ``"many"``) is a :class:`BadResponse` naming it, never a crash later."""
    if not isinstance(u, dict):
        return None
    prompt = count(u.get("prompt_tokens") or u.get("input_tokens"), "usage.prompt_tokens")
    completion = count(u.get("completion_tokens") or u.get("output_tokens"), "usage.completion_tokens")
    total = count(u.get("total_tokens"), "usage.total_tokens") or prompt + completion
    details = u.get("prompt_tokens_details")
    cached = written = 0
    if isinstance(details, dict):
        cached = count(details.get("cached_tokens"), "usage.prompt_tokens_details.cached_tokens")
        # OpenRouter's count of prompt tokens written to the provider's cache (billed at its write price)
        written = count(details.get("cache_write_tokens"), "usage.prompt_tokens_details.cache_write_tokens")
    if prompt == 0 and completion == 0:
        return None
    return Usage(prompt, completion, total, cached, estimated=False, cache_write_tokens=written)


class Estimator:
    """Client-side usage when the server reports none: prompt from the request, completion from the output."""

    def __init__(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None) -> None:
        self.messages = messages
        self.tools = tools

    def usage(self, c: Completion) -> Usage:
        from lime import tokens

        prompt = tokens.estimate_messages(self.messages, self.tools)
        out = c.text + c.reasoning + "".join(t.name + t.arguments for t in c.tool_calls)
        completion = tokens.count_text(out) if out else 0
        return Usage(prompt, completion, prompt + completion, 0, estimated=True)


class StreamProcessor:
    """Feed raw bytes in; get events out. Keeps the (partial) completion at every point."""

    def __init__(self, model: str, estimator: Estimator | None = None) -> None:
        self._decoder = SSEDecoder()
        self._text: list[str] = []
        self._reasoning: list[str] = []
        self._calls: dict[Any, _Call] = {}
        self._last_call: _Call | None = None
        self._emitted_calls: list[ToolCall] | None = None
        self.model = model
        self.finish_reason: str | None = None
        self.usage: Usage | None = None
        self.done = False
        self.output_started = False
        self.saw_chunk = False
        self._estimator = estimator
        self._final: Completion | None = None
        self._room = config.max_answer_size()  # characters the answer may still grow by
        self._quiet_max = config.max_body_size()  # bytes that may arrive without an event
        self._quiet = 0
        # Until the answer's first words show whether it opens with <think>, content goes through this.
        self._think: ThinkSplitter | None = ThinkSplitter()
        self._inline_reasoning = False

    # -- feeding --------------------------------------------------------------------------------

    def feed(self, raw: bytes) -> list[StreamEvent]:
        """One network read in; the events it completes out. A stream that keeps sending without
        saying anything (keep-alives, empty deltas, chunks after the finish) is stopped once a
        whole body's bound has gone by since its last event: the read timeout never fires on it."""
        events = self._consume(self._decoder.feed(raw))
        if events:
            self._quiet = 0
        else:
            self._quiet += len(raw)
            if self._quiet > self._quiet_max:
                raise ResponseTooLarge("what arrived without any answer", self._quiet_max, "LIME_MAX_BODY_SIZE")
        return events

    def _consume(self, pairs: list[tuple[bytes, bytes]]) -> list[StreamEvent]:
        """Parse, assemble and emit in one pass over the decoded events.

        The common chunk (an object holding ``choices[0].delta.content``) takes the fast path: the
        JSON scanner straight on the text and a few dict lookups, with no type check per field; a
        chunk that does not fit that shape fails inside the ``try`` and only then is examined
        (:func:`shapes.explain`) to name the field that is wrong.
        """
        out: list[StreamEvent] = []
        for event, payload in pairs:
            if self.done:
                break
            try:
                text = payload.decode()
                obj, end = _scan(text, 0)
            except (StopIteration, ValueError, RecursionError):
                end = -1
            if end < 0 or end != len(text) or type(obj) is not dict or event != b"message" or (
                    len(payload) > _SHALLOW and _deep(payload)):
                obj = self._careful(event, payload)
                if obj is None:
                    continue
            self.saw_chunk = True
            try:
                choices = obj.get("choices")
                if choices:
                    ch = choices[0]
                    delta = ch.get(_DELTA) or _first(ch, CHOICE_FIELDS)
                    if delta:
                        c = delta.get("content")
                        if c:
                            if type(c) is not str:
                                c = _content_text(c)
                            if c:
                                n = len(c)
                                if n > self._room:
                                    raise self._too_large()
                                self._room -= n
                                if self._think is not None:
                                    self._split_think(self._think.feed(c), out)
                                else:
                                    self._text.append(c)
                                    self.output_started = True
                                    out.append(TextDelta(c))
                        if c is None or len(delta) > 1:  # reasoning or tool calls may be beside it
                            self._delta_extras(delta, out)
                    fr = ch.get("finish_reason")
                    if fr and self.finish_reason is None:
                        self._finish(str(fr), out)
                for k in ERROR_KEYS:
                    if obj.get(k):
                        raise StreamErrorPayload(payload)
                if obj.get("object") in ERROR_OBJECTS:
                    raise StreamErrorPayload(payload)
                u = obj.get("usage")
                if not u:
                    for k in USAGE_CARRIERS:
                        carrier = obj.get(k)
                        if carrier and type(carrier) is dict and carrier.get("usage"):
                            u = carrier["usage"]
                            break
                if u:
                    self.usage = usage_from(u) or self.usage
                if not self.model and type(obj.get("model")) is str:
                    self.model = obj["model"]
            except (AttributeError, TypeError, KeyError, IndexError):
                raise explain(obj) from None
        return out

    def _too_large(self) -> ResponseTooLarge:
        """The answer outgrew LIME_MAX_ANSWER_SIZE: stop; what arrived stays in the snapshot."""
        self._room = -1
        return ResponseTooLarge("the answer", config.max_answer_size(), "LIME_MAX_ANSWER_SIZE")

    def _spend(self, size: int) -> None:
        if size > self._room:
            raise self._too_large()
        self._room -= size

    def _careful(self, event: bytes, payload: bytes) -> dict[str, Any] | None:
        """Everything the fast path does not take: ``[DONE]``, error events, blank or padded
        payloads, JSON that is not an object, nested too deep, or not JSON at all."""
        if payload == b"[DONE]":
            self.done = True
            return None
        if event == b"error":
            raise StreamErrorPayload(payload)
        if not payload.strip():
            return None
        try:
            obj = jsonguard.loads(payload)
        except jsonguard.JSONTooDeep as exc:
            raise BadResponse(f"a stream chunk is {exc}") from None
        except ValueError:
            raise MalformedChunk(payload) from None
        if type(obj) is not dict:
            raise MalformedChunk(payload)
        return obj

    def _split_think(self, pieces: list[Piece], out: list[StreamEvent]) -> None:
        """Route what the <think> splitter released: inline reasoning as reasoning, the rest as text."""
        for kind, piece in pieces:
            self.output_started = True
            if kind == "reasoning":
                self._inline_reasoning = True
                self._reasoning.append(piece)
                out.append(ReasoningDelta(piece))
            else:
                self._text.append(piece)
                out.append(TextDelta(piece))
        if self._think is not None and self._think.passthrough:
            self._think = None

    def _delta_extras(self, delta: dict[str, Any], out: list[StreamEvent]) -> None:
        for k in REASONING_FIELDS:
            r = delta.get(k)
            if r:
                if type(r) is str:
                    self._spend(len(r))
                    self._reasoning.append(r)
                    self.output_started = True
                    out.append(ReasoningDelta(r))
                break
        tcs = delta.get("tool_calls")
        if tcs:
            self.output_started = True
            self._tool_deltas(tcs)

    def _tool_deltas(self, tcs: Any) -> None:
        """Fragments of tool calls. Each value is type-checked (fragments are few next to text
        chunks): a TypeError here is explained by the caller as a bad_response naming the field."""
        if type(tcs) is not list:
            raise TypeError("tool_calls")
        for tc in tcs:
            idx = tc.get("index")
            tid = tc.get("id")
            fn = tc.get("function") or {}
            name = fn.get("name")
            args = fn.get("arguments")
            if not (idx is None or (type(idx) is int and idx >= 0)) or not (tid is None or type(tid) is str) or not (
                    name is None or type(name) is str) or not (args is None or type(args) in (str, dict)):
                raise TypeError("tool call fragment")
            tid = tid or None
            call: _Call | None
            if idx is not None:
                call = self._calls.get(idx)
                if call is not None and tid and call.id and tid != call.id:
                    # Same index, different id: a server that does not number parallel calls.
                    idx = ("extra", len(self._calls))
                    call = None
                key: Any = idx
            elif tid:
                call = next((c for c in self._calls.values() if c.id == tid), None)
                key = ("id", tid)
            else:
                call = self._last_call
                key = ("anon", len(self._calls))
            if call is None:
                self._spend(_CALL_COST)
                call = _Call(tid, name)
                self._calls[key] = call
            else:
                if tid and not call.id:
                    call.id = tid
                if name and not call.name:
                    call.name = name
            if args:
                if type(args) is not str:
                    args = json.dumps(args)
                self._spend(len(args))
                call.args.append(args)
            self._last_call = call

    def _assembled(self) -> list[ToolCall]:
        if self._emitted_calls is None:
            calls = []
            for n, c in enumerate(self._calls.values()):
                if not c.name and not c.args:
                    continue
                calls.append(ToolCall(c.id or f"call_{n}", c.name, "".join(c.args) or "{}"))
            self._emitted_calls = calls
        return self._emitted_calls

    def _finish(self, reason: str, out: list[StreamEvent]) -> None:
        calls = self._assembled() if self._calls else []
        for call in calls:
            out.append(ToolCallEvent(call))
        if calls and reason == "stop":
            reason = "tool_calls"  # some servers say "stop" after tool calls; callers look for tool_calls
        self.finish_reason = reason
        out.append(FinishEvent(reason))

    def absorb(self, c: Completion) -> list[StreamEvent]:
        """A server that ignored ``stream: true`` and sent one JSON body: replay it as events."""
        out: list[StreamEvent] = []
        self._think, self._inline_reasoning = None, c.reasoning_inline
        if c.reasoning:
            self._reasoning.append(c.reasoning)
            out.append(ReasoningDelta(c.reasoning))
        if c.text:
            self._text.append(c.text)
            out.append(TextDelta(c.text))
        for n, call in enumerate(c.tool_calls):
            self._calls[n] = _Call(call.id, call.name)
            self._calls[n].args.append(call.arguments)
        self.output_started = bool(out or c.tool_calls)
        self.usage = c.usage if c.usage is not None and not c.usage.estimated else None
        self.saw_chunk = True
        self._finish(c.finish_reason or "stop", out)
        self.done = True
        return out

    # -- the end --------------------------------------------------------------------------------

    def end(self) -> list[StreamEvent]:
        """The body ended. Returns the last events (pending tool calls, finish, usage)."""
        out = self._consume(self._decoder.close())
        if self._think is not None:
            self._split_think(self._think.flush(), out)
        if self.finish_reason is None and (self.done or self.saw_chunk) and self.complete:
            self._finish("tool_calls" if self._calls else "stop", out)
        out.append(UsageEvent(self.final_usage()))
        return out

    @property
    def empty(self) -> bool:
        """Nothing at all arrived (not even a keep-alive)."""
        return self._quiet == 0 and not self.saw_chunk

    @property
    def complete(self) -> bool:
        """Did the answer end properly ([DONE] or a finish_reason) rather than being cut off?"""
        return self.done or self.finish_reason is not None

    def final_usage(self) -> Usage:
        if self.usage is None:
            c = self.snapshot()
            self.usage = self._estimator.usage(c) if self._estimator else Usage(estimated=True)
        return self.usage

    def snapshot(self) -> Completion:
        calls = list(self._assembled()) if self._emitted_calls is not None else [
            ToolCall(c.id or f"call_{n}", c.name, "".join(c.args)) for n, c in enumerate(self._calls.values())
            if c.name or c.args]
        return Completion(text="".join(self._text), reasoning="".join(self._reasoning), tool_calls=calls,
                          reasoning_inline=self._inline_reasoning, finish_reason=self.finish_reason,
                          usage=self.usage, model=self.model)


def completion_from_body(obj: Any, model: str, estimator: Estimator | None) -> Completion:
    """A non-streamed ``chat.completion`` body; a shape it does not expect is a :class:`BadResponse`
    naming the field (read optimistically, explained only on failure, as a stream chunk is)."""
    if type(obj) is not dict:
        raise explain(obj, body=True)
    choices = obj.get("choices")
    if choices is None or choices == []:
        raise BadResponse("the response has no choices")
    try:
        return _completion(obj, choices, model, estimator)
    except (AttributeError, TypeError, KeyError, IndexError):
        raise explain(obj, body=True) from None


def _completion(obj: dict[str, Any], choices: Any, model: str, estimator: Estimator | None) -> Completion:
    ch = choices[0]
    msg = _first(ch, CHOICE_FIELDS[::-1]) or {}
    content = msg.get("content")
    text = content if type(content) is str else _content_text(content)
    inline, text = split_think(text) if text.lstrip().startswith("<think") else ("", text)
    reasoning = _first(msg, REASONING_FIELDS) or ""
    tcs = msg.get("tool_calls") or []
    if type(reasoning) is not str or type(tcs) is not list:
        raise TypeError("message")
    calls: list[ToolCall] = []
    for n, tc in enumerate(tcs):
        fn = tc.get("function") or {}
        cid, name, args = tc.get("id") or f"call_{n}", fn.get("name") or "", fn.get("arguments") or ""
        if type(cid) is not str or type(name) is not str or type(args) not in (str, dict):
            raise TypeError("tool call")
        calls.append(ToolCall(cid, name, (args if type(args) is str else json.dumps(args)) or "{}"))
    reason = ch.get("finish_reason")
    wire_model = obj.get("model") or model
    if (reason is not None and type(reason) is not str) or type(wire_model) is not str:
        raise TypeError("finish_reason or model")
    if calls and reason in (None, "stop"):
        reason = "tool_calls"
    c = Completion(text=text, reasoning=reasoning + inline, tool_calls=calls, finish_reason=reason, usage=None,
                   model=wire_model, reasoning_inline=bool(inline))
    c.usage = usage_from(obj.get("usage"))
    if c.usage is None:
        c.usage = estimator.usage(c) if estimator else Usage(estimated=True)
    return c
