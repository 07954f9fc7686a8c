"""Building the request body: only the fields this service and model accept.

Gating comes from the route's capabilities (preset + model entry + what a local server reported)
and from the lessons a service taught us at run time (``compat_memory``). ``heal`` reads a 400/422
and decides which optional field to drop or rename before the one retry.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from lime.providers.openai_compat.compat_memory import Lessons
from lime.providers.openai_compat.errors import ErrorBody
from lime.providers.openai_compat.quirks import refusal
from lime.providers.openai_compat.types import ChatRoute, Message, RequestOptions

# Fields a request can do without. ``model``, ``messages`` and ``stream`` are never dropped.
OPTIONAL_FIELDS = (
    "stream_options", "reasoning_effort", "verbosity", "parallel_tool_calls", "tool_choice", "tools",
    "response_format", "max_completion_tokens", "max_tokens", "temperature", "top_p", "n", "seed", "stop",
    "frequency_penalty", "presence_penalty", "logprobs", "top_logprobs", "logit_bias", "user", "store",
    "metadata", "service_tier", "reasoning", "safe_prompt", "prediction",
)
_REASONING_ORDER = ("none", "minimal", "low", "medium", "high", "xhigh")
# The lesson of a server that refuses a JSON-schema response_format but takes JSON mode.
JSON_SCHEMA_REFUSED = "response_format.json_schema"


def _with_system(messages: list[Message], text: str) -> list[Message]:
    """``text`` added to the system message (one is put first when there is none)."""
    if messages and messages[0].get("role") == "system" and isinstance(messages[0].get("content"), str):
        return [{**messages[0], "content": messages[0]["content"] + "\n\n" + text}, *messages[1:]]
    return [{"role": "system", "content": text}, *messages]


def schema_instruction(response_format: dict[str, Any]) -> str:
    import json

    spec = response_format.get("json_schema")
    schema = spec.get("schema") if isinstance(spec, dict) else None
    return ("Reply with only a JSON value that conforms to this JSON Schema: no prose, no code fences.\n"
            + json.dumps(schema, ensure_ascii=False))


def reasoning_level(requested: str, allowed: tuple[str, ...]) -> str | None:
    """The closest level the service accepts (``xhigh`` → ``high`` where there is no xhigh);
    None when the request means "no reasoning" and the service has no such level."""
    if requested in allowed:
        return requested
    if requested in ("none", "off"):
        return None
    if requested not in _REASONING_ORDER or not allowed:
        return None
    want = _REASONING_ORDER.index(requested)
    ranked = sorted((a for a in allowed if a in _REASONING_ORDER and a != "none"),
                    key=lambda a: abs(_REASONING_ORDER.index(a) - want))
    return ranked[0] if ranked else None


def adapt_messages(messages: list[Message], strip: set[str], keep_reasoning: bool) -> list[Message]:
    """Copy messages for the wire: drop lime's own keys (``_``-prefixed) and fields this service refuses."""
    out: list[Message] = []
    for m in messages:
        if any(k.startswith("_") or k in strip or (k == "reasoning_content" and not keep_reasoning) for k in m):
            m = {k: v for k, v in m.items()
                 if not k.startswith("_") and k not in strip and (keep_reasoning or k != "reasoning_content")}
        out.append(m)
    return out


def build_body(route: ChatRoute, messages: list[Message], options: RequestOptions, lessons: Lessons, *,
               stream: bool) -> dict[str, Any]:
    caps = route.capabilities
    preset = route.preset
    # Public services never need reasoning_content handed back and some reject it; custom endpoints
    # (DeepSeek-style reasoners behind a proxy) may require it.
    keep_reasoning = preset is None or preset.local
    body: dict[str, Any] = {"model": route.wire_model,
                            "messages": adapt_messages(messages, lessons.strip_message_fields, keep_reasoning)}
    if stream:
        body["stream"] = True
        if caps.include_usage:
            body["stream_options"] = {"include_usage": True}
    if options.max_tokens is not None:
        body[lessons.max_tokens_field or caps.max_tokens_field] = int(options.max_tokens)
    if options.reasoning_effort and caps.reasoning_effort:
        level = reasoning_level(options.reasoning_effort, tuple(caps.reasoning_levels))
        if level:
            body["reasoning_effort"] = level
    if options.verbosity and caps.verbosity:
        body["verbosity"] = options.verbosity
    if options.tools and caps.tools:
        body["tools"] = [t.to_wire() for t in options.tools]
        if options.tool_choice is not None:
            body["tool_choice"] = options.tool_choice
        if caps.parallel_tool_calls:
            body["parallel_tool_calls"] = True
    if options.response_format is not None and caps.response_format:
        body["response_format"] = options.response_format
        if JSON_SCHEMA_REFUSED in lessons.drop and options.response_format.get("type") == "json_schema":
            # This server takes only JSON mode: the schema goes in the prompt, the answer is checked after.
            body["response_format"] = {"type": "json_object"}
            body["messages"] = _with_system(body["messages"], schema_instruction(options.response_format))
    if options.temperature is not None:
        body["temperature"] = options.temperature
    extra_body = route.extra_body
    if extra_body:
        merge_extra(body, extra_body)
    if options.extra:
        merge_extra(body, options.extra)
    for name in lessons.drop:
        body.pop(name, None)
    if "tools" not in body:
        body.pop("tool_choice", None)
        body.pop("parallel_tool_calls", None)
    return body


def merge_extra(body: dict[str, Any], extra: dict[str, Any]) -> None:
    """Lay per-model or per-call fields over the body; objects merge key by key, and lime's own
    ``model``/``messages``/``stream`` are never replaced."""
    for key, value in extra.items():
        if key in ("model", "messages", "stream"):
            continue
        current = body.get(key)
        if isinstance(current, dict) and isinstance(value, dict):
            body[key] = {**current, **value}
        else:
            body[key] = value


def droppable_fields(route: ChatRoute) -> frozenset[str]:
    """Fields healing may drop besides the optional ones: whatever the entry's extra_body adds."""
    return frozenset(route.extra_body or ())


# ----------------------------------------------------------------------------------------------
# Self-healing

@dataclass
class Fix:
    """How to retry a request a server refused: the field, what to do with it, and the lessons to keep."""

    field: str  # what the server refused, e.g. "stream_options" or "messages.reasoning_content"
    action: str  # "drop", "rename", "strip", "downgrade" (another form of the same field)
    lessons: Lessons  # the new lessons to apply (and remember)
    what: str = ""  # the refusal in words, where the field's name does not say it (a wire's own fix)

    def describe(self) -> str:
        if self.what:
            return self.what
        if self.action == "rename":
            return f"'{self.field}' (sending '{self.lessons.max_tokens_field}' instead)"
        if self.action == "downgrade":
            return "a JSON-schema 'response_format' (sending JSON mode and the schema in the prompt instead)"
        return f"'{self.field}'"


def _mentioned(message: str, names: list[str]) -> str | None:
    best: tuple[int, str] | None = None
    for name in names:
        m = re.search(rf"(?<![A-Za-z0-9_]){re.escape(name)}(?![A-Za-z0-9_])", message)
        if m and (best is None or m.start() < best[0]):
            best = (m.start(), name)
    return best[1] if best else None


def heal(status: int, err: ErrorBody, body: dict[str, Any], lessons: Lessons,
         protected: frozenset[str] = frozenset(), extra: frozenset[str] = frozenset()) -> Fix | None:
    """If a 400/422 names an optional field we sent, return how to fix the request (else None)."""
    if status not in (400, 422):
        return None
    sent = [k for k in body if (k in OPTIONAL_FIELDS or k in extra) and k not in protected]
    field: str | None = None
    for f in err.fields:  # pydantic-style "loc" paths: most precise
        parts = f.split(".")
        if parts[0] in sent:
            field = parts[0]
            break
        if parts[0] == "messages" and parts[-1] in ("reasoning_content", "name", "reasoning", "refusal"):
            field = f"messages.{parts[-1]}"
            break
    message = err.message
    if field is None and err.param and err.param in sent and (
            refusal().search(message) or (err.code or "").startswith("unsupported")):
        field = err.param
    if field is None and refusal().search(message):
        field = _mentioned(message, sent)
        if field is None and "reasoning_content" in message and any(
                "reasoning_content" in m for m in body.get("messages", []) if isinstance(m, dict)):
            field = "messages.reasoning_content"
    if field is None:
        return None
    new = Lessons(set(lessons.drop), set(lessons.strip_message_fields), lessons.max_tokens_field)
    if field.startswith("messages."):
        new.strip_message_fields.add(field.split(".", 1)[1])
        return Fix(field, "strip", new)
    if field in ("max_tokens", "max_completion_tokens") and lessons.max_tokens_field is None:
        # Renaming keeps the output cap; only if the other name fails too is the cap dropped.
        new.max_tokens_field = "max_completion_tokens" if field == "max_tokens" else "max_tokens"
        return Fix(field, "rename", new)
    if field in ("max_tokens", "max_completion_tokens"):
        new.drop |= {"max_tokens", "max_completion_tokens"}
        return Fix(field, "drop", new)
    if field == "response_format" and JSON_SCHEMA_REFUSED not in lessons.drop and isinstance(
            body.get("response_format"), dict) and body["response_format"].get("type") == "json_schema":
        new.drop.add(JSON_SCHEMA_REFUSED)  # JSON mode first; if that is refused too, no response_format
        return Fix(JSON_SCHEMA_REFUSED, "downgrade", new)
    if field == "tools":
        new.drop |= {"tools", "tool_choice", "parallel_tool_calls"}
    else:
        new.drop.add(field)
    return Fix(field, "drop", new)
