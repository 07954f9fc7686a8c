"""Google's Gemini API (``models/MODEL:streamGenerateContent?alt=sse``): contents and parts.

The key goes in ``x-goog-api-key``. A turn is ``user`` or ``model``; a tool call is a
``functionCall`` part and its result a ``functionResponse`` part naming the function. A thinking
model puts a ``thoughtSignature`` on its parts; the parts of each answer travel on the stored
assistant message (``_wire``) and are sent back as they came, signatures included. Each SSE event
is a whole ``GenerateContentResponse``; a function call arrives whole, never in fragments.
"""

from __future__ import annotations

import json
import re
from typing import Any

from lime.providers.openai_compat.compat_memory import Lessons
from lime.providers.openai_compat.errors import BadResponse, ErrorBody
from lime.providers.openai_compat.request import Fix
from lime.providers.openai_compat.shapes import count
from lime.providers.openai_compat.stream import Estimator, StreamErrorPayload
from lime.providers.openai_compat.types import (
    ChatRoute,
    Completion,
    Message,
    RequestOptions,
    StreamEvent,
    Usage,
)
from lime.providers.wires.common import (
    EventProcessor,
    arguments,
    calls_of,
    content_text,
    drop_lessons,
    max_output,
    schema_of,
    state_of,
)

BUDGETS = {"none": 0, "minimal": 512, "low": 2048, "medium": 8192, "high": 24576, "xhigh": 32768}
FINISH = {"STOP": "stop", "MAX_TOKENS": "length", "SAFETY": "content_filter", "RECITATION": "content_filter",
          "BLOCKLIST": "content_filter", "PROHIBITED_CONTENT": "content_filter", "SPII": "content_filter",
          "IMAGE_SAFETY": "content_filter", "MALFORMED_FUNCTION_CALL": "stop"}
# JSON Schema keywords Gemini's responseSchema / parameters (an OpenAPI subset) refuse.
_UNSUPPORTED = frozenset(("$schema", "additionalProperties", "$id", "$defs", "definitions", "$ref", "const",
                          "examples", "default", "patternProperties", "unevaluatedProperties"))


class GeminiWire:
    name = "gemini"
    optional_fields = frozenset(("generationConfig", "toolConfig", "safetySettings"))

    def path(self, model: str, stream: bool) -> str:
        model = model if model.startswith(("models/", "tunedModels/")) else f"models/{model}"
        return f"{model}:streamGenerateContent?alt=sse" if stream else f"{model}:generateContent"

    def headers(self, sent: dict[str, str]) -> dict[str, str]:
        out = dict(sent)
        auth = out.get("Authorization", "")
        if auth.startswith("Bearer "):
            del out["Authorization"]
            out["x-goog-api-key"] = auth[len("Bearer "):]
        return out

    def build_body(self, route: ChatRoute, messages: list[Message], options: RequestOptions, lessons: Any, *,
                   stream: bool) -> dict[str, Any]:
        return build_body(route, messages, options, lessons, stream=stream)

    def processor(self, model: str, estimator: Estimator, body: dict[str, Any]) -> EventProcessor:
        return GeminiProcessor(model, estimator, body)

    def completion(self, data: Any, model: str, estimator: Estimator, body: dict[str, Any]) -> Completion:
        if type(data) is not dict:
            raise BadResponse("the response is not an object")
        proc = GeminiProcessor(model, estimator, body)
        out: list[StreamEvent] = []
        proc.on_event("message", data, b"", out)
        if proc.finish_reason is None:
            proc.finish("tool_calls" if proc._calls else "stop", out)
        c = proc.snapshot()
        c.usage = proc.final_usage()
        return c

    def is_error(self, data: Any) -> bool:
        return isinstance(data, dict) and bool(data.get("error")) and not data.get("candidates")

    def heal(self, err: ErrorBody, body: dict[str, Any], lessons: Lessons) -> Fix | None:
        """A 400 naming a field inside one of the optional objects (``generationConfig``...): drop
        that field alone and remember it. Google words it ``Invalid JSON payload received. Unknown
        name "includeThoughts" at 'generation_config.thinking_config': Cannot find field.`` (its
        paths in proto spelling, snake_case, and each again in ``details[].fieldViolations``), or
        ``Unable to submit request because Thinking_config.include_thoughts is only enabled when
        thinking is enabled``. A top-level field is left to the common healing."""
        texts = [err.message, *_violations(err.data)]
        if not any(_REFUSED.search(t) for t in texts):
            return None
        roots = {k: v for k, v in body.items() if k in self.optional_fields and isinstance(v, dict)}
        for text in texts:
            for name, at in _UNKNOWN.findall(text):  # the most precise: a name and where it was
                path = _find(roots, [*_segments(at), name]) if at else None  # no place: a top-level name
                if path:
                    return _drop(path, lessons)
        for text in texts:  # else the first field the words name ("thinking_budget", "thinking budget")
            if _UNKNOWN.search(text):
                continue  # a name at a place the request does not have (inside a schema...): not ours to drop
            tokens = _TOKEN.findall(text)
            for i, token in enumerate(tokens):
                for words in (token, token + "_" + tokens[i + 1] if i + 1 < len(tokens) else ""):
                    path = _find(roots, _segments(words))
                    if path:
                        return _drop(path, lessons)
        return None


WIRE = GeminiWire()

# Google's words for a request it will not take because of one field (a 400 INVALID_ARGUMENT).
_REFUSED = re.compile(r"unknown name|cannot find field|unable to submit request|only (?:supported|enabled|allowed)"
                      r"|not (?:configurable|enabled|supported)|is invalid|please remove", re.I)
_UNKNOWN = re.compile(r"""Unknown name \\?"([^"\\]+)\\?"(?: at '([^']*)')?""")
_TOKEN = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[_.][A-Za-z][A-Za-z0-9]*)*")


def _violations(data: Any) -> list[str]:
    """The descriptions of a google.rpc.BadRequest's field violations (the message may be cut)."""
    out: list[str] = []
    for err in data if isinstance(data, list) else [data]:
        inner = err.get("error") if isinstance(err, dict) else None
        for detail in (inner.get("details") if isinstance(inner, dict) else None) or []:
            for v in (detail.get("fieldViolations") if isinstance(detail, dict) else None) or []:
                if isinstance(v, dict) and isinstance(v.get("description"), str):
                    out.append(v["description"])
    return out


def _segments(path: str) -> list[str]:
    """``tools[0].function_declarations`` → ["tools", "function_declarations"] (indices dropped)."""
    return [s for s in re.sub(r"\[\d*\]", "", path).split(".") if s]


def _norm(name: str) -> str:
    return name.replace("_", "").lower()  # thinking_config, thinkingConfig and Thinking_config alike


def _find(roots: dict[str, Any], segments: list[str]) -> list[str] | None:
    """The shortest path through the optional objects whose last keys are ``segments`` (in either
    spelling), at least two keys long: a nested field lime sent."""
    want = [_norm(s) for s in segments]
    if not want:
        return None
    found: list[str] | None = None
    stack: list[tuple[list[str], Any]] = [([k], v) for k, v in roots.items()]
    while stack:
        path, value = stack.pop()
        if len(path) > 1 and len(path) >= len(want) and [_norm(p) for p in path[-len(want):]] == want and (
                found is None or len(path) < len(found)):
            found = path
        if isinstance(value, dict) and len(path) < 6:
            stack.extend(([*path, k], v) for k, v in value.items())
    return found


def _drop(path: list[str], lessons: Lessons) -> Fix:
    field = ".".join(path)
    return Fix(field, "drop", Lessons(set(lessons.drop) | {field}, set(lessons.strip_message_fields),
                                      lessons.max_tokens_field))


def clean_schema(schema: Any) -> Any:
    """A JSON Schema without the keywords Gemini refuses."""
    if isinstance(schema, dict):
        return {k: clean_schema(v) for k, v in schema.items() if k not in _UNSUPPORTED}
    if isinstance(schema, list):
        return [clean_schema(v) for v in schema]
    return schema


def _parts(content: Any) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"text": content}] if content else []
    out: list[dict[str, Any]] = []
    for p in content if isinstance(content, list) else []:
        if isinstance(p, dict) and isinstance(p.get("text"), str) and p["text"]:
            out.append({"text": p["text"]})
        elif isinstance(p, dict) and p.get("type") == "image_url":
            url = (p.get("image_url") or {}).get("url", "")
            if isinstance(url, str) and url.startswith("data:") and ";base64," in url:
                mime, data = url[5:].split(";base64,", 1)
                out.append({"inlineData": {"mimeType": mime, "data": data}})
    return out


def convert(messages: list[Message]) -> tuple[str, list[dict[str, Any]]]:
    """Chat Completions messages → (system instruction, contents)."""
    system: list[str] = []
    contents: list[dict[str, Any]] = []
    names: dict[str, str] = {}

    def add(role: str, parts: list[dict[str, Any]]) -> None:
        if not parts:
            return
        if contents and contents[-1]["role"] == role:
            contents[-1]["parts"].extend(parts)
        else:
            contents.append({"role": role, "parts": parts})

    for m in messages:
        role = m.get("role")
        if role in ("system", "developer"):
            system.append(content_text(m.get("content")))
        elif role == "user":
            add("user", _parts(m.get("content")))
        elif role == "tool":
            cid = str(m.get("tool_call_id") or "")
            add("user", [{"functionResponse": {"name": names.get(cid, cid),
                                               "response": {"content": content_text(m.get("content"))}}}])
        elif role == "assistant":
            calls = calls_of(m)
            names.update({cid: name for cid, name, _ in calls})
            st = state_of(m, "gemini")
            if st and isinstance(st.get("parts"), list) and st["parts"]:
                add("model", [p for p in st["parts"] if isinstance(p, dict)])
                continue
            parts = _parts(m.get("content"))
            parts += [{"functionCall": {"name": name, "args": arguments(args)}} for _, name, args in calls]
            add("model", parts or [{"text": "(no answer)"}])
    return "\n\n".join(s for s in system if s), contents


def build_body(route: ChatRoute, messages: list[Message], options: RequestOptions, lessons: Any, *,
               stream: bool) -> dict[str, Any]:
    caps = route.capabilities
    system, contents = convert(messages)
    body: dict[str, Any] = {"contents": contents}
    if system:
        body["systemInstruction"] = {"parts": [{"text": system}]}
    gen: dict[str, Any] = {"maxOutputTokens": max_output(route, options)}
    if options.temperature is not None:
        gen["temperature"] = options.temperature
    effort = options.reasoning_effort
    thinking = bool(getattr(getattr(route, "entry", None), "supports_extended_thinking", False))
    if effort and caps.reasoning_effort and (thinking or effort in ("none", "off")):
        gen["thinkingConfig"] = {"thinkingBudget": BUDGETS.get(effort, 0 if effort == "off" else 8192),
                                 "includeThoughts": effort not in ("none", "off")}
    elif thinking and not effort:  # the model's own (dynamic) budget, its thoughts shown and signed
        gen["thinkingConfig"] = {"includeThoughts": True}
    schema = schema_of(options.response_format)
    if schema is not None and caps.response_format:
        gen["responseMimeType"] = "application/json"
        gen["responseSchema"] = clean_schema(schema[1])
    body["generationConfig"] = gen
    if options.tools and caps.tools:
        body["tools"] = [{"functionDeclarations": [
            {"name": t.name, "description": t.description, "parameters": clean_schema(t.parameters)}
            for t in options.tools]}]
        tc = options.tool_choice
        if tc is not None:
            mode = {"auto": "AUTO", "none": "NONE", "required": "ANY"}.get(tc if isinstance(tc, str) else "", "ANY")
            cfg: dict[str, Any] = {"mode": mode}
            if isinstance(tc, dict):
                cfg["allowedFunctionNames"] = [(tc.get("function") or {}).get("name", "")]
            body["toolConfig"] = {"functionCallingConfig": cfg}
    for src in (route.extra_body or {}, options.extra):
        for key, value in src.items():
            if key not in ("model", "contents", "stream"):
                body[key] = value
    return drop_lessons(body, lessons)


class GeminiProcessor(EventProcessor):
    wire = "gemini"

    def __init__(self, model: str, estimator: Any = None, body: dict[str, Any] | None = None) -> None:
        super().__init__(model, estimator, body)
        self._parts: list[dict[str, Any]] = []  # this answer's parts; a text part holds its pieces
        self._signed = False

    def on_event(self, event: str, obj: dict[str, Any], payload: bytes, out: list[StreamEvent]) -> None:
        if obj.get("error"):
            raise StreamErrorPayload(payload or json.dumps(obj).encode())
        u = obj.get("usageMetadata")
        if u:
            self._usage(u)
        version = obj.get("modelVersion")
        if version and type(version) is str:
            self.model = version
        feedback = obj.get("promptFeedback")
        if isinstance(feedback, dict) and feedback.get("blockReason"):
            raise BadResponse(f"Gemini blocked the prompt ({feedback['blockReason']}): its safety filters "
                              "refused to answer; rephrase the request")
        cands = obj.get("candidates")
        if cands:
            cand = cands[0]
            for part in (cand.get("content") or {}).get("parts") or ():
                self._part(part, out)
            reason = cand.get("finishReason")
            if reason and reason != "FINISH_REASON_UNSPECIFIED":
                mapped = FINISH.get(str(reason), "stop")
                self.finish("tool_calls" if self._calls and mapped == "stop" else mapped, out)
                self.done = True

    def _part(self, part: dict[str, Any], out: list[StreamEvent]) -> None:
        t = part.get("text")
        if type(t) is str:
            thought = bool(part.get("thought"))
            if thought:
                self.reasoning(t, out)
            else:
                self.text(t, out)
            # Text pieces of one kind run together into one part (joined at the snapshot): only a
            # piece that starts a part is copied.
            parts = self._parts
            last = parts[-1] if parts else None
            if last is not None and type(last.get("text")) is list and bool(last.get("thought")) is thought \
                    and "thoughtSignature" not in part:
                last["text"].append(t)
                return
            kept = dict(part)
            kept["text"] = [t]
        elif isinstance(part.get("functionCall"), dict):
            fc = part["functionCall"]
            n = len(self._calls)
            cid = fc.get("id") if isinstance(fc.get("id"), str) and fc.get("id") else f"call_{n}"
            self.call(("fc", n), cid, fc.get("name"))
            self.args(("fc", n), fc.get("args") or {})
            kept = dict(part)
        else:
            return
        self._parts.append(kept)
        self._signed = self._signed or "thoughtSignature" in kept

    def snapshot(self) -> Completion:
        c = super().snapshot()
        if self._signed:  # the parts go back as they came; without signatures, text and calls suffice
            c.state = {"wire": self.wire, "parts": [
                {**p, "text": "".join(p["text"])} if type(p.get("text")) is list else p for p in self._parts]}
        else:
            c.state = None
        return c

    def absorb(self, c: Completion) -> list[StreamEvent]:
        if c.state and isinstance(c.state.get("parts"), list):
            self._parts = [{**p, "text": [p["text"]]} if isinstance(p.get("text"), str) else dict(p)
                           for p in c.state["parts"] if isinstance(p, dict)]
            self._signed = True
        return super().absorb(c)

    def _usage(self, u: Any) -> None:
        if not isinstance(u, dict):
            return
        prompt = count(u.get("promptTokenCount"), "usageMetadata.promptTokenCount")
        out = count(u.get("candidatesTokenCount"), "usageMetadata.candidatesTokenCount") + count(
            u.get("thoughtsTokenCount"), "usageMetadata.thoughtsTokenCount")
        cached = count(u.get("cachedContentTokenCount"), "usageMetadata.cachedContentTokenCount")
        if prompt or out:
            self.usage = Usage(prompt, out, prompt + out, cached, estimated=False)
