"""Anthropic's Messages API (``POST /v1/messages``): request body, stream events, answers.

The key goes in ``x-api-key`` with an ``anthropic-version``; the system prompt and tools sit
apart from the turns; a tool result is a ``tool_result`` block in a user turn. Thinking blocks
come back with a ``signature`` that must be sent back unchanged with the turn that used them:
they travel on the stored assistant message (``_wire``). Thinking is asked for in one of two
forms: adaptive (``{"type": "adaptive"}`` with ``output_config.effort``) for the models whose
entry says so, a token budget (``{"type": "enabled", "budget_tokens": N}``) for the others; a
server that refuses the form it got is sent the other one, and that is remembered. Prompt caching
marks the tools, the system prompt and the two latest user turns (``cache_control``), so each
request reads the prefix the previous one wrote; the usage then counts cache reads and writes
apart.
"""

from __future__ import annotations

from typing import Any

from lime.providers.openai_compat.compat_memory import Lessons
from lime.providers.openai_compat.errors import ErrorBody
from lime.providers.openai_compat.quirks import refusal
from lime.providers.openai_compat.request import Fix
from lime.providers.openai_compat.shapes import count
from lime.providers.openai_compat.stream import Estimator, StreamErrorPayload, usage_from
from lime.providers.openai_compat.types import (
    ChatRoute,
    Completion,
    Message,
    RequestOptions,
    StreamEvent,
    Usage,
)
from lime.providers.wires.common import (
    STRUCTURED_TOOL,
    EventProcessor,
    arguments,
    calls_of,
    content_text,
    drop_lessons,
    max_output,
    schema_of,
    state_of,
)

VERSION = "2023-06-01"
# Thinking budgets for --reasoning-effort (tokens the model may think before answering).
BUDGETS = {"minimal": 1024, "low": 2048, "medium": 8192, "high": 16384, "xhigh": 32000}
# The effort of adaptive thinking for --reasoning-effort (Anthropic has no "minimal"; "max" is the
# top level every adaptive model takes).
EFFORTS = {"minimal": "low", "low": "low", "medium": "medium", "high": "high", "xhigh": "max"}
# The two forms of thinking, as thinking.type; "thinking.<form>" among an endpoint's dropped
# lessons means it refused that form.
FORMS = ("adaptive", "enabled")
STOP_REASONS = {"end_turn": "stop", "stop_sequence": "stop", "tool_use": "tool_calls", "max_tokens": "length",
                "refusal": "content_filter", "pause_turn": "pause_turn",
                "model_context_window_exceeded": "length"}


class MessagesWire:
    name = "anthropic"
    optional_fields = frozenset(("thinking", "metadata", "top_k", "output_config", "service_tier"))

    def path(self, model: str, stream: bool) -> str:
        return "messages"

    def headers(self, sent: dict[str, str]) -> dict[str, str]:
        out = dict(sent)
        auth = out.get("Authorization", "")
        if auth.startswith("Bearer "):  # the key as lime resolves it; Anthropic reads it from x-api-key
            del out["Authorization"]
            out["x-api-key"] = auth[len("Bearer "):]
        out.setdefault("anthropic-version", VERSION)
        return out

    def build_body(self, route: ChatRoute, messages: list[Message], options: RequestOptions, lessons: Any, *,
                   stream: bool) -> dict[str, Any]:
        return build_body(route, messages, options, lessons, stream=stream)

    def processor(self, model: str, estimator: Estimator, body: dict[str, Any]) -> EventProcessor:
        return MessagesProcessor(model, estimator, body)

    def completion(self, data: Any, model: str, estimator: Estimator, body: dict[str, Any]) -> Completion:
        proc = MessagesProcessor(model, estimator, body)
        out: list[StreamEvent] = []
        if type(data) is not dict or not isinstance(data.get("content"), list):
            from lime.providers.openai_compat.errors import BadResponse

            raise BadResponse("the response has no content list")
        proc.on_event("message_start", {"type": "message_start", "message": data}, b"", out)
        for i, block in enumerate(data["content"]):
            proc.block(i, block, out, whole=True)
        proc.on_event("message_delta", {"delta": {"stop_reason": data.get("stop_reason")}, "type": "message_delta"},
                      b"", out)
        proc.done = True
        c = proc.snapshot()
        c.usage = proc.final_usage()
        return c

    def is_error(self, data: Any) -> bool:
        return isinstance(data, dict) and data.get("type") == "error"

    def heal(self, err: ErrorBody, body: dict[str, Any], lessons: Lessons) -> Fix | None:
        """A refusal of the form of thinking sent: Anthropic's older models refuse adaptive
        thinking ("adaptive thinking is not supported on this model"), Opus 4.7 a budget
        ("thinking.type.enabled" is not supported for this model. Use "thinking.type.adaptive"...),
        proxies say either in their words or name ``thinking.type`` in a validation error."""
        thinking = body.get("thinking")
        sent = thinking.get("type") if isinstance(thinking, dict) else None
        if sent not in FORMS:
            return None
        named = any(f == "thinking.type" or f.startswith("thinking.type.") for f in err.fields)
        mentions = "adaptive" in err.message.lower()
        if sent == "adaptive":
            refused = named or (mentions and refusal().search(err.message) is not None)
        else:  # a budget: refused when the server points at adaptive thinking instead
            refused = mentions and (named or refusal().search(err.message) is not None)
        if not refused:
            return None
        new = Lessons(set(lessons.drop) | {f"thinking.{sent}"}, set(lessons.strip_message_fields),
                      lessons.max_tokens_field)
        left = [f for f in FORMS if f"thinking.{f}" not in new.drop]
        names = {"adaptive": "adaptive thinking", "enabled": "a thinking budget"}
        instead = f"sending {names[left[0]]} instead" if left else "sending no thinking"
        return Fix(f"thinking.{sent}", "downgrade", new, what=f"{names[sent]} ({instead})")


WIRE = MessagesWire()


def _cache(ttl: str | None) -> dict[str, Any]:
    return {"type": "ephemeral", "ttl": ttl} if ttl else {"type": "ephemeral"}


def _blocks(content: Any) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}] if content else []
    out: list[dict[str, Any]] = []
    for part in content if isinstance(content, list) else []:
        if not isinstance(part, dict):
            continue
        if isinstance(part.get("text"), str) and part["text"]:
            out.append({"type": "text", "text": part["text"]})
        elif part.get("type") == "image_url":
            url = (part.get("image_url") or {}).get("url", "")
            if isinstance(url, str) and url.startswith("data:") and ";base64," in url:
                media, data = url[5:].split(";base64,", 1)
                out.append({"type": "image", "source": {"type": "base64", "media_type": media, "data": data}})
    return out


def convert(messages: list[Message]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Chat Completions messages → (system blocks, Messages turns), roles alternating."""
    system: list[dict[str, Any]] = []
    turns: list[dict[str, Any]] = []

    def add(role: str, blocks: list[dict[str, Any]]) -> None:
        if not blocks:
            return
        if turns and turns[-1]["role"] == role:
            turns[-1]["content"].extend(blocks)
        else:
            turns.append({"role": role, "content": blocks})

    for m in messages:
        role = m.get("role")
        if role in ("system", "developer"):
            system.extend(_blocks(m.get("content")))
        elif role == "user":
            add("user", _blocks(m.get("content")))
        elif role == "tool":
            add("user", [{"type": "tool_result", "tool_use_id": str(m.get("tool_call_id") or ""),
                          "content": content_text(m.get("content")) or "(no output)"}])
        elif role == "assistant":
            blocks: list[dict[str, Any]] = []
            st = state_of(m, "anthropic")
            if st and isinstance(st.get("thinking"), list):
                blocks.extend(b for b in st["thinking"] if isinstance(b, dict))
            blocks.extend(_blocks(m.get("content")))
            for cid, name, args in calls_of(m):
                blocks.append({"type": "tool_use", "id": cid, "name": name, "input": arguments(args)})
            add("assistant", blocks or [{"type": "text", "text": "(no answer)"}])
    if turns and turns[0]["role"] != "user":
        turns.insert(0, {"role": "user", "content": [{"type": "text", "text": "(continue)"}]})
    return system, turns


def build_body(route: ChatRoute, messages: list[Message], options: RequestOptions, lessons: Any, *,
               stream: bool) -> dict[str, Any]:
    caps = route.capabilities
    system, turns = convert(messages)
    extra = dict(route.extra_body or {})
    ttl = extra.pop("cache_ttl", None)  # "1h" where asked (models.json extra_body), else 5 minutes
    ttl = ttl if ttl in ("5m", "1h") else None
    body: dict[str, Any] = {"model": route.wire_model, "max_tokens": max_output(route, options), "messages": turns}
    if system:
        system[-1] = {**system[-1], "cache_control": _cache(ttl)}
        body["system"] = system
    tools = [{"name": t.name, "description": t.description, "input_schema": t.parameters}
             for t in options.tools or []] if caps.tools else []
    schema = schema_of(options.response_format)
    if schema is not None:
        # The answer is this tool's input: forced when it is the only tool; beside other tools, some
        # tool must be called each turn, so the model works with them and ends by giving the answer.
        tools.append({"name": STRUCTURED_TOOL, "description": "Give the final answer as this tool's input, "
                      "which must conform to the schema.", "input_schema": schema[1]})
        body["tool_choice"] = {"type": "tool", "name": STRUCTURED_TOOL} if len(tools) == 1 else {"type": "any"}
    elif tools and options.tool_choice is not None:
        tc = options.tool_choice
        if isinstance(tc, dict):
            body["tool_choice"] = {"type": "tool", "name": (tc.get("function") or {}).get("name", "")}
        else:
            body["tool_choice"] = {"type": {"required": "any"}.get(tc, tc)}
    if tools:
        tools[-1] = {**tools[-1], "cache_control": _cache(ttl)}
        body["tools"] = tools
    # The two latest user turns: this request reads the prefix the previous one wrote.
    marked = 0
    for turn in reversed(turns):
        if turn["role"] == "user" and marked < 2:
            turn["content"][-1] = {**turn["content"][-1], "cache_control": _cache(None)}
            marked += 1
    effort = options.reasoning_effort
    form = _thinking_form(route, lessons)
    if effort and effort not in ("none", "off") and caps.reasoning_effort and schema is None and form:
        budget = BUDGETS.get(effort, BUDGETS["medium"])  # adaptive thinking gets the same room
        if body["max_tokens"] <= budget:  # thinking counts towards max_tokens: switch to the upper cap
            body["max_tokens"] = max(max_output(route, options, upper=True), budget + 1024)
        if form == "adaptive":
            body["thinking"] = {"type": "adaptive"}
            body["output_config"] = {"effort": EFFORTS.get(effort, "medium")}
        else:
            body["thinking"] = {"type": "enabled", "budget_tokens": budget}
    elif options.temperature is not None:
        body["temperature"] = options.temperature
    if stream:
        body["stream"] = True
    for key, value in extra.items():
        if key not in ("model", "messages", "stream"):
            body[key] = value
    for key, value in options.extra.items():
        if key not in ("model", "messages", "stream"):
            body[key] = value
    return drop_lessons(body, lessons)


def _thinking_form(route: ChatRoute, lessons: Any) -> str | None:
    """Adaptive where the entry says the model thinks so, else a budget; a form this endpoint
    refused is not used (None: it refused both)."""
    adaptive = bool(getattr(getattr(route, "entry", None), "supports_adaptive_thinking", False))
    refused = getattr(lessons, "drop", ())
    return next((f for f in (FORMS if adaptive else FORMS[::-1]) if f"thinking.{f}" not in refused), None)


class MessagesProcessor(EventProcessor):
    wire = "anthropic"

    def __init__(self, model: str, estimator: Any = None, body: dict[str, Any] | None = None) -> None:
        super().__init__(model, estimator, body)
        self.structured = any(isinstance(t, dict) and t.get("name") == STRUCTURED_TOOL
                              for t in self.body.get("tools") or ())
        self._blocks: dict[int, dict[str, Any]] = {}  # thinking blocks being received, by index
        self._u: dict[str, Any] = {}  # usage so far: message_start's, updated by message_delta's
        self.stop_reason: str | None = None  # as Anthropic said it (pause_turn, refusal...)

    def on_event(self, event: str, obj: dict[str, Any], payload: bytes, out: list[StreamEvent]) -> None:
        kind = obj.get("type") or event
        if kind == "content_block_delta":
            idx, delta = obj["index"], obj["delta"]
            dt = delta.get("type")
            if dt == "text_delta":
                self.text(delta["text"], out)
            elif dt == "input_json_delta":
                self.args(("tool", idx), delta.get("partial_json") or "")
            elif dt == "thinking_delta":
                self.reasoning(delta["thinking"], out)
                block = self._blocks.get(idx)
                if block is not None:
                    block["thinking"] += delta["thinking"]
            elif dt == "signature_delta":
                block = self._blocks.get(idx)
                if block is not None and isinstance(delta.get("signature"), str):
                    block["signature"] = block.get("signature", "") + delta["signature"]
        elif kind == "content_block_start":
            self.block(obj["index"], obj["content_block"], out)
        elif kind == "message_start":
            msg = obj["message"]
            if isinstance(msg.get("model"), str) and msg["model"]:
                self.model = msg["model"]
            self._usage(msg.get("usage"))
        elif kind == "message_delta":
            self._usage(obj.get("usage"))
            reason = (obj.get("delta") or {}).get("stop_reason")
            if reason:
                self.stop_reason = str(reason)
                self.finish(STOP_REASONS.get(str(reason), str(reason)), out)
        elif kind == "message_stop":
            self.done = True
        elif kind == "error":
            raise StreamErrorPayload(payload)
        # ping and event types added later carry nothing lime needs

    def block(self, idx: int, block: dict[str, Any], out: list[StreamEvent], whole: bool = False) -> None:
        bt = block.get("type")
        if bt == "text":
            self.text(block.get("text") or "", out)
        elif bt == "tool_use":
            self.call(("tool", idx), block.get("id"), block.get("name"))
            if block.get("input"):  # a whole answer carries the input; a stream sends {} then deltas
                self.args(("tool", idx), block["input"])
        elif bt in ("thinking", "redacted_thinking"):
            kept = dict(block)
            if bt == "thinking":
                kept.setdefault("thinking", "")
                kept["thinking"] = kept["thinking"] or ""
                self.reasoning(kept["thinking"], out)
            self._blocks[idx] = kept
            self.state.setdefault("thinking", []).append(kept)

    def _usage(self, u: Any) -> None:
        if not isinstance(u, dict):
            return
        self._u.update({k: v for k, v in u.items() if v is not None})
        read = count(self._u.get("cache_read_input_tokens"), "usage.cache_read_input_tokens")
        write = count(self._u.get("cache_creation_input_tokens"), "usage.cache_creation_input_tokens")
        # Of those, written to a one-hour cache: {"ephemeral_5m_input_tokens": n, "ephemeral_1h_input_tokens": m}
        split = self._u.get("cache_creation")
        hour = count(split.get("ephemeral_1h_input_tokens"),
                     "usage.cache_creation.ephemeral_1h_input_tokens") if isinstance(split, dict) else 0
        hour = min(hour, write)
        base = usage_from({"input_tokens": self._u.get("input_tokens"), "output_tokens": self._u.get("output_tokens")})
        prompt = (base.prompt_tokens if base else 0) + read + write
        out = base.completion_tokens if base else 0
        if prompt or out:
            self.usage = Usage(prompt, out, prompt + out, read, estimated=False, cache_write_tokens=write,
                               cache_write_1h_tokens=hour)
