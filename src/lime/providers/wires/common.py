"""What the native wires share: a stream processor that reads named SSE events as JSON objects
(with the compat processor's bounds and tool-call assembly), and small readers of lime's stored
Chat Completions messages (system text, content text, tool arguments as objects)."""

from __future__ import annotations

import json
from json.scanner import make_scanner
from typing import Any

from lime import jsonguard
from lime.providers.openai_compat.errors import BadResponse
from lime.providers.openai_compat.stream import (
    MalformedChunk,
    StreamErrorPayload,
    StreamProcessor,
    _Call,
    _deep,
)
from lime.providers.openai_compat.types import (
    WIRE_STATE,
    Completion,
    Message,
    ReasoningDelta,
    StreamEvent,
    TextDelta,
    ToolCall,
)

STRUCTURED_TOOL = "structured_output"
_scan = make_scanner(json.JSONDecoder())  # type: ignore[arg-type]
_SHALLOW = 2 * jsonguard.MAX_DEPTH  # a shorter payload cannot nest deeper than the limit
_NAMES: dict[bytes, str] = {}  # event names as text, decoded once


class EventProcessor(StreamProcessor):
    """A native wire's stream: each SSE event is one JSON object, handed to :meth:`on_event`.

    Text, reasoning and tool calls go through the same counters (answer size, quiet bytes) and
    the same assembly as a Chat Completions stream; a subclass only maps its events."""

    wire = ""

    def __init__(self, model: str, estimator: Any = None, body: dict[str, Any] | None = None) -> None:
        super().__init__(model, estimator)
        self._think = None  # native wires never inline <think>
        self.body = body or {}
        self.state: dict[str, Any] = {}
        self.structured = False  # the schema answer arrives as a forced tool call (Anthropic)

    def _consume(self, pairs: list[tuple[bytes, bytes]]) -> list[StreamEvent]:
        out: list[StreamEvent] = []
        names = _NAMES
        for event, payload in pairs:
            if self.done:
                break
            try:  # the C scanner on the text, as the Chat Completions fast path does
                text = payload.decode()
                obj, end = _scan(text, 0)
            except (StopIteration, ValueError, RecursionError):
                text, end = "", -1
            if end != len(text) or type(obj) is not dict or (len(payload) > _SHALLOW and _deep(payload)):
                if payload == b"[DONE]":
                    self.done = True
                    break
                if not payload.strip():
                    continue
                obj = self._parse_careful(payload)
            self.saw_chunk = True
            name = names.get(event)
            if name is None:
                name = event.decode("utf-8", "replace")
                if len(names) < 64:  # the few a wire uses; a server inventing names is not remembered
                    names[event] = name
            try:
                self.on_event(name, obj, payload, out)
            except (AttributeError, TypeError, KeyError, IndexError, ValueError) as exc:
                if isinstance(exc, BadResponse | StreamErrorPayload):
                    raise
                raise BadResponse(f"a {self.wire} stream event has an unexpected shape: "
                                  f"{payload[:120].decode('utf-8', 'replace')!r}") from None
        return out

    @staticmethod
    def _parse_careful(payload: bytes) -> dict[str, Any]:
        """An event the fast path did not take: padded, nested too deep, not an object, not JSON."""
        try:
            obj = jsonguard.loads(payload)
        except jsonguard.JSONTooDeep as exc:
            raise BadResponse(f"a stream event is {exc}") from None
        except ValueError:
            raise MalformedChunk(payload) from None
        if type(obj) is not dict:
            raise MalformedChunk(payload)
        return obj

    def on_event(self, event: str, obj: dict[str, Any], payload: bytes, out: list[StreamEvent]) -> None:
        raise NotImplementedError

    # -- what subclasses emit ----------------------------------------------------------------

    def text(self, t: Any, out: list[StreamEvent]) -> None:
        if type(t) is not str:
            raise TypeError("text")
        if t:
            n = len(t)  # what _spend does, here once per delta
            if n > self._room:
                raise self._too_large()
            self._room -= n
            self._text.append(t)
            self.output_started = True
            out.append(TextDelta(t))

    def reasoning(self, t: Any, out: list[StreamEvent]) -> None:
        if type(t) is not str:
            raise TypeError("reasoning")
        if t:
            n = len(t)
            if n > self._room:
                raise self._too_large()
            self._room -= n
            self._reasoning.append(t)
            self.output_started = True
            out.append(ReasoningDelta(t))

    def call(self, key: Any, cid: Any, name: Any) -> _Call:
        if not (cid is None or type(cid) is str) or not (name is None or type(name) is str):
            raise TypeError("tool call")
        self._spend(64)
        c = self._calls[key] = _Call(cid, name)
        self.output_started = True
        return c

    def args(self, key: Any, piece: Any) -> None:
        if type(piece) is not str:
            piece = json.dumps(piece)
        c = self._calls.get(key)
        if c is None:
            c = self.call(key, None, None)
        self._spend(len(piece))
        c.args.append(piece)

    def finish(self, reason: str, out: list[StreamEvent]) -> None:
        if self.finish_reason is None:
            if self.structured:
                self._unwrap_structured(out)
            self._finish(reason, out)

    def _unwrap_structured(self, out: list[StreamEvent]) -> None:
        """The forced ``structured_output`` call is the answer: its arguments become the text."""
        for key, c in list(self._calls.items()):
            if c.name == STRUCTURED_TOOL:
                del self._calls[key]
                self._text.append("".join(c.args) or "{}")
                self.output_started = True
                out.append(TextDelta(self._text[-1]))

    def snapshot(self) -> Completion:
        c = super().snapshot()
        if self.state:
            c.state = {"wire": self.wire, **self.state}
        return c

    def absorb(self, c: Completion) -> list[StreamEvent]:
        if c.state:
            self.state = {k: v for k, v in c.state.items() if k != "wire"}
        return super().absorb(c)


def state_of(msg: Message, wire: str) -> dict[str, Any] | None:
    """The wire state a stored assistant message carries, if it came from this wire."""
    st = msg.get(WIRE_STATE)
    return st if isinstance(st, dict) and st.get("wire") == wire else None


def content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p.get("text", "") for p in content if isinstance(p, dict) and isinstance(p.get("text"), str))
    return ""


def system_text(messages: list[Message]) -> str:
    return "\n\n".join(content_text(m.get("content")) for m in messages if m.get("role") in ("system", "developer"))


def arguments(raw: Any) -> dict[str, Any]:
    """A tool call's stored arguments as an object (a wire that wants JSON, not text)."""
    if isinstance(raw, dict):
        return raw
    try:
        value = json.loads(raw) if isinstance(raw, str) and raw.strip() else {}
    except ValueError:
        return {"_raw": raw}
    return value if isinstance(value, dict) else {"value": value}


def calls_of(msg: Message) -> list[tuple[str, str, str]]:
    """(id, name, arguments) of an assistant message's tool calls."""
    out = []
    for c in msg.get("tool_calls") or []:
        fn = c.get("function") or {}
        out.append((str(c.get("id") or ""), str(fn.get("name") or ""), str(fn.get("arguments") or "")))
    return out


def schema_of(response_format: dict[str, Any] | None) -> tuple[str, dict[str, Any]] | None:
    """(name, JSON Schema) of a Chat Completions ``response_format`` of type json_schema."""
    if not isinstance(response_format, dict) or response_format.get("type") != "json_schema":
        return None
    spec = response_format.get("json_schema")
    if not isinstance(spec, dict) or not isinstance(spec.get("schema"), dict):
        return None
    return str(spec.get("name") or "answer"), spec["schema"]


def max_output(route: Any, options: Any, *, upper: bool = False) -> int:
    """The output cap: the caller's, else the catalog's (``upper_max_output`` when the turn needs room)."""
    if options.max_tokens is not None:
        return int(options.max_tokens)
    entry = getattr(route, "entry", None)
    cap = int(getattr(entry, "upper_max_output" if upper else "max_output", 0) or 0)
    if not cap and entry is not None:
        cap = int(getattr(entry, "max_output", 0) or 0)
    return cap or 4096


def drop_lessons(body: dict[str, Any], lessons: Any) -> dict[str, Any]:
    """The body without the fields this endpoint refused: a top-level name, or a dotted path to a
    nested one (``generationConfig.thinkingConfig.thinkingBudget``), whose object is left out too
    when that empties it. Objects on the way are copied (they may be the entry's extra_body)."""
    for name in getattr(lessons, "drop", ()):
        if "." not in name:
            body.pop(name, None)
            continue
        *parents, leaf = name.split(".")
        chain: list[tuple[dict[str, Any], str]] = []
        node = body
        for key in parents:
            child = node.get(key)
            if not isinstance(child, dict):
                break
            node[key] = node = dict(child)
            chain.append((node, key))
        else:
            if leaf not in node:
                continue
            del node[leaf]
            for i in range(len(chain) - 1, -1, -1):  # an object the drop emptied goes too
                obj, key = chain[i]
                if obj:
                    break
                (chain[i - 1][0] if i else body).pop(key, None)
    if "tools" not in body:
        body.pop("tool_choice", None)
        body.pop("parallel_tool_calls", None)
        body.pop("toolConfig", None)
    return body


def tool_call(cid: str, name: str, args: str) -> ToolCall:
    return ToolCall(cid, name, args or "{}")
