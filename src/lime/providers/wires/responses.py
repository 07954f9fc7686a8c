"""OpenAI's Responses API (``POST /v1/responses``): input items in, ``response.*`` events out.

A conversation is a list of items: messages, ``function_call`` and ``function_call_output``.
Nothing is stored on OpenAI's side (``store: false``); a reasoning model's thinking comes back as
``reasoning`` items with ``encrypted_content``, which travel on the stored assistant message
(``_wire``) and are sent back before that message's calls, so the model continues its reasoning
across turns and resumed sessions.
"""

from __future__ import annotations

from typing import Any

from lime.providers.openai_compat.compat_memory import Lessons
from lime.providers.openai_compat.errors import ErrorBody
from lime.providers.openai_compat.request import Fix, reasoning_level
from lime.providers.openai_compat.shapes import count
from lime.providers.openai_compat.stream import Estimator, StreamErrorPayload, usage_from
from lime.providers.openai_compat.types import (
    ChatRoute,
    Completion,
    Message,
    RequestOptions,
    StreamEvent,
)
from lime.providers.wires.common import (
    EventProcessor,
    calls_of,
    content_text,
    drop_lessons,
    max_output,
    schema_of,
    state_of,
)


class ResponsesWire:
    name = "responses"
    optional_fields = frozenset(("reasoning", "text", "include", "store", "service_tier", "max_output_tokens",
                                 "truncation", "parallel_tool_calls", "tool_choice", "tools", "temperature"))

    def path(self, model: str, stream: bool) -> str:
        return "responses"

    def headers(self, sent: dict[str, str]) -> dict[str, str]:
        return sent

    def build_body(self, route: ChatRoute, messages: list[Message], options: RequestOptions, lessons: Any, *,
                   stream: bool) -> dict[str, Any]:
        return build_body(route, messages, options, lessons, stream=stream)

    def processor(self, model: str, estimator: Estimator, body: dict[str, Any]) -> EventProcessor:
        return ResponsesProcessor(model, estimator, body)

    def completion(self, data: Any, model: str, estimator: Estimator, body: dict[str, Any]) -> Completion:
        from lime.providers.openai_compat.errors import BadResponse

        if type(data) is not dict or not isinstance(data.get("output"), list):
            raise BadResponse("the response has no output list")
        proc = ResponsesProcessor(model, estimator, body)
        out: list[StreamEvent] = []
        for item in data["output"]:
            proc.item(item, out, whole=True)
        proc.on_event("response.completed", {"type": "response.completed", "response": data}, b"", out)
        c = proc.snapshot()
        c.usage = proc.final_usage()
        return c

    def is_error(self, data: Any) -> bool:
        return isinstance(data, dict) and bool(data.get("error")) and not data.get("output")

    def heal(self, err: ErrorBody, body: dict[str, Any], lessons: Lessons) -> Fix | None:
        return None  # its refusals name top-level fields: the common healing reads them


WIRE = ResponsesWire()


def _content(content: Any, kind: str) -> list[dict[str, Any]] | str:
    if isinstance(content, str):
        return content
    parts: list[dict[str, Any]] = []
    for p in content if isinstance(content, list) else []:
        if isinstance(p, dict) and isinstance(p.get("text"), str):
            parts.append({"type": kind, "text": p["text"]})
        elif isinstance(p, dict) and p.get("type") == "image_url" and kind == "input_text":
            url = (p.get("image_url") or {}).get("url")
            if isinstance(url, str):
                parts.append({"type": "input_image", "image_url": url})
    return parts


def convert(messages: list[Message]) -> tuple[str, list[dict[str, Any]]]:
    """Chat Completions messages → (instructions, input items)."""
    instructions: list[str] = []
    items: list[dict[str, Any]] = []
    for m in messages:
        role = m.get("role")
        if role in ("system", "developer"):
            instructions.append(content_text(m.get("content")))
        elif role == "user":
            items.append({"type": "message", "role": "user", "content": _content(m.get("content"), "input_text")})
        elif role == "tool":
            items.append({"type": "function_call_output", "call_id": str(m.get("tool_call_id") or ""),
                          "output": content_text(m.get("content"))})
        elif role == "assistant":
            st = state_of(m, "responses")
            if st and isinstance(st.get("reasoning"), list):
                items.extend(r for r in st["reasoning"] if isinstance(r, dict))
            text = content_text(m.get("content"))
            if text:
                items.append({"type": "message", "role": "assistant",
                              "content": [{"type": "output_text", "text": text}]})
            for cid, name, args in calls_of(m):
                items.append({"type": "function_call", "call_id": cid, "name": name, "arguments": args or "{}"})
    return "\n\n".join(t for t in instructions if t), items


def build_body(route: ChatRoute, messages: list[Message], options: RequestOptions, lessons: Any, *,
               stream: bool) -> dict[str, Any]:
    caps = route.capabilities
    instructions, items = convert(messages)
    body: dict[str, Any] = {"model": route.wire_model, "input": items, "store": False}
    if instructions:
        body["instructions"] = instructions
    if stream:
        body["stream"] = True
    if options.max_tokens is not None or getattr(route, "entry", None) is not None:
        body["max_output_tokens"] = max(16, max_output(route, options))  # OpenAI's least
    if options.reasoning_effort and caps.reasoning_effort:
        level = reasoning_level(options.reasoning_effort, tuple(caps.reasoning_levels))
        if level:
            body["reasoning"] = {"effort": level, "summary": "auto"}
            body["include"] = ["reasoning.encrypted_content"]
    text: dict[str, Any] = {}
    if options.verbosity and caps.verbosity:
        text["verbosity"] = options.verbosity
    schema = schema_of(options.response_format)
    if schema is not None and caps.response_format:
        text["format"] = {"type": "json_schema", "name": schema[0][:64], "schema": schema[1], "strict": False}
    elif isinstance(options.response_format, dict) and options.response_format.get("type") == "json_object":
        text["format"] = {"type": "json_object"}
    if text:
        body["text"] = text
    if options.tools and caps.tools:
        body["tools"] = [{"type": "function", "name": t.name, "description": t.description,
                          "parameters": t.parameters, "strict": False} for t in options.tools]
        tc = options.tool_choice
        if isinstance(tc, dict):
            body["tool_choice"] = {"type": "function", "name": (tc.get("function") or {}).get("name", "")}
        elif tc is not None:
            body["tool_choice"] = tc
        if caps.parallel_tool_calls:
            body["parallel_tool_calls"] = True
    if options.temperature is not None:
        body["temperature"] = options.temperature
    for src in (route.extra_body or {}, options.extra):
        for key, value in src.items():
            if key not in ("model", "input", "stream"):
                body[key] = value
    return drop_lessons(body, lessons)


_FAIL = {"max_output_tokens": "length", "content_filter": "content_filter"}


class ResponsesProcessor(EventProcessor):
    wire = "responses"

    def __init__(self, model: str, estimator: Any = None, body: dict[str, Any] | None = None) -> None:
        super().__init__(model, estimator, body)
        self._streamed: set[Any] = set()  # message items whose text came as deltas

    def on_event(self, event: str, obj: dict[str, Any], payload: bytes, out: list[StreamEvent]) -> None:
        kind = obj.get("type") or event
        if kind == "response.output_text.delta":
            self.text(obj["delta"], out)
            self._streamed.add(obj.get("item_id") or obj.get("output_index"))
        elif kind == "response.function_call_arguments.delta":
            self.args(("item", obj.get("item_id") or obj.get("output_index")), obj["delta"])
        elif kind in ("response.reasoning_summary_text.delta", "response.reasoning_text.delta"):
            self.reasoning(obj["delta"], out)
        elif kind == "response.output_item.added":
            item = obj["item"]
            if item.get("type") == "function_call":
                key = ("item", item.get("id") or obj.get("output_index"))
                self.call(key, item.get("call_id") or item.get("id"), item.get("name"))
                if item.get("arguments"):
                    self.args(key, item["arguments"])
        elif kind == "response.output_item.done":
            item = obj["item"]
            if item.get("type") == "reasoning":
                self._keep_reasoning(item)
            elif item.get("type") == "message" and (item.get("id") or obj.get("output_index")) not in self._streamed:
                self.item(item, out)  # a server that sends the message whole, at its end
            elif item.get("type") == "function_call":
                key = ("item", item.get("id") or obj.get("output_index"))
                c = self._calls.get(key)
                if c is None:  # a server that sends each call whole, at its end
                    self.call(key, item.get("call_id") or item.get("id"), item.get("name"))
                    self.args(key, item.get("arguments") or "")
                elif not c.args and item.get("arguments"):
                    self.args(key, item["arguments"])
        elif kind in ("response.completed", "response.incomplete", "response.failed"):
            resp = obj.get("response") or {}
            self._usage(resp.get("usage"))
            if isinstance(resp.get("model"), str) and resp["model"]:
                self.model = resp["model"]
            if kind == "response.failed" or resp.get("status") == "failed":
                raise StreamErrorPayload(_error_payload(resp.get("error"), payload))
            why = (resp.get("incomplete_details") or {}).get("reason") if kind == "response.incomplete" else None
            self.finish(_FAIL.get(str(why), "length") if why else ("tool_calls" if self._calls else "stop"), out)
            self.done = True
        elif kind == "error" or event == "error":
            raise StreamErrorPayload(_error_payload(obj.get("error") or obj, payload))
        # response.created, in_progress, content_part.*, *.done and unknown events carry nothing new

    def item(self, item: dict[str, Any], out: list[StreamEvent], whole: bool = False) -> None:
        kind = item.get("type")
        if kind == "message":
            for part in item.get("content") or []:
                if part.get("type") in ("output_text", "text"):
                    self.text(part.get("text") or "", out)
                elif part.get("type") == "refusal":
                    self.text(part.get("refusal") or "", out)
        elif kind == "function_call":
            key = ("item", item.get("id") or item.get("call_id"))
            self.call(key, item.get("call_id") or item.get("id"), item.get("name"))
            self.args(key, item.get("arguments") or "")
        elif kind == "reasoning":
            for s in item.get("summary") or []:
                if isinstance(s, dict):
                    self.reasoning(s.get("text") or "", out)
            self._keep_reasoning(item)

    def _keep_reasoning(self, item: dict[str, Any]) -> None:
        if not item.get("encrypted_content"):
            return  # nothing the server can use again (store: false keeps no id on its side)
        kept = {k: item[k] for k in ("type", "id", "summary", "encrypted_content") if k in item}
        kept.setdefault("summary", [])
        self.state.setdefault("reasoning", []).append(kept)

    def _usage(self, u: Any) -> None:
        base = usage_from(u) if isinstance(u, dict) else None
        if base is None:
            return
        details = u.get("input_tokens_details")
        if isinstance(details, dict):
            base.cached_tokens = count(details.get("cached_tokens"), "usage.input_tokens_details.cached_tokens")
        self.usage = base


def _error_payload(err: Any, payload: bytes) -> bytes:
    import json

    if isinstance(err, dict):
        return json.dumps({"error": err}).encode()
    return payload

