"""The fake server's other wires: Anthropic Messages, OpenAI Responses and Gemini.

A scripted :class:`~support.fakeserver.Reply` sent to ``.../messages``, ``.../responses`` or
``.../models/M:streamGenerateContent`` is rendered in that wire's format, with the events and
field names each service documents, so the same script drives every wire. ``anthropic_sse``,
``responses_sse`` and ``gemini_sse`` build a stream from explicit events (hostile shapes: unknown
event types, errors mid-stream); ``anthropic_error`` is Anthropic's error body (529 overloaded).

``WIRE_PROFILES`` are what these services refuse, in their words (``FakeServer("anthropic")``):
Anthropic's models each take one or both forms of thinking and only some effort levels; Gemini
refuses a field it does not know anywhere in ``generationConfig`` (``gemini-native``), and a model
without thinking refuses the thinking fields (``gemini-no-thinking``), an older API version
``responseSchema`` and ``thinkingConfig`` (``gemini-old``).
"""

from __future__ import annotations

import itertools
import json
from typing import Any

from support.fakeserver import (
    AUTO,
    SSE,
    Close,
    ErrorResponse,
    JSONResponse,
    Profile,
    Raw,
    Recorded,
    Reply,
    _norm_call,
    _split,
    wire_of,
)

SIGNATURE = "EqQBCkgIARABGAIiQL-signature-of-the-thinking"
ENCRYPTED = "gAAAAABencrypted-reasoning-blob=="
THOUGHT_SIGNATURE = "CiQBthought-signature=="


def event(name: str, data: dict[str, Any]) -> Raw:
    return Raw(f"event: {name}\ndata: {json.dumps(data)}\n\n")


def anthropic_sse(events: list[tuple[str, dict[str, Any]] | Any], **kw: Any) -> SSE:
    """``(name, data)`` pairs become ``event: name`` + ``data: {"type": name, ...}``; anything else
    (``Raw``, ``Close``, ``Delay``) is written as it is."""
    return SSE([event(e[0], {"type": e[0], **e[1]}) if isinstance(e, tuple) else e for e in events],
               done=False, **kw)


def responses_sse(events: list[tuple[str, dict[str, Any]] | Any], **kw: Any) -> SSE:
    return anthropic_sse(events, **kw)


def gemini_sse(chunks: list[dict[str, Any] | Any], **kw: Any) -> SSE:
    return SSE(list(chunks), done=False, **kw)


def anthropic_error(status: int, kind: str, message: str) -> ErrorResponse:
    return ErrorResponse(status, {"type": "error", "error": {"type": kind, "message": message}})


def _usage(r: Reply, req: Recorded, n_out: int) -> dict[str, Any]:
    if isinstance(r.usage, dict):
        return dict(r.usage)
    size = len(req.body or b"") // 4
    return {"input_tokens": max(1, size), "output_tokens": n_out}


def render(r: Reply, req: Recorded) -> Any:
    wire = wire_of(req.path)
    body = req.json if isinstance(req.json, dict) else {}
    stream = r.force_stream or bool(body.get("stream")) or req.path.endswith(":streamGenerateContent")
    calls = [_norm_call(c, i) for i, c in enumerate(r.tool_calls)]
    if wire == "anthropic":
        return _anthropic(r, req, body, calls, stream)
    if wire == "responses":
        return _responses(r, req, body, calls, stream)
    return _gemini(r, req, body, calls, stream)


def _finish(r: Reply, calls: list[Any], default_tools: str, default: str) -> str:
    if r.finish_reason is AUTO:
        return default_tools if calls else default
    return str(r.finish_reason)


def _cut(r: Reply, items: list[Any]) -> SSE:
    if r.cut_after is not None:
        items = items[:r.cut_after] + [Close()]
    return SSE(items, done=False, headers=dict(r.headers))


# -- Anthropic Messages ---------------------------------------------------------------------------

def _anthropic(r: Reply, req: Recorded, body: dict[str, Any], calls: list[Any], stream: bool) -> Any:
    model = r.model or str(body.get("model") or "fake-model")
    texts, thinks = _split(r.text, r.chunks), _split(r.reasoning, r.chunks)
    usage = _usage(r, req, max(1, len(texts) + len(thinks) + 3 * len(calls)))
    stop = _finish(r, calls, "tool_use", "end_turn")
    if not stream:
        content: list[dict[str, Any]] = []
        if r.reasoning:
            content.append({"type": "thinking", "thinking": r.reasoning, "signature": SIGNATURE})
        if r.text:
            content.append({"type": "text", "text": r.text})
        content += [{"type": "tool_use", "id": c["id"], "name": c["name"], "input": json.loads(c["arguments"])}
                    for c in calls]
        return JSONResponse({"id": "msg_01", "type": "message", "role": "assistant", "model": model,
                             "content": content, "stop_reason": stop, "stop_sequence": None, "usage": usage})
    start_usage = {k: v for k, v in usage.items() if k != "output_tokens"} | {"output_tokens": 1}
    ev: list[Any] = [event("message_start", {"type": "message_start", "message": {
        "id": "msg_01", "type": "message", "role": "assistant", "model": model, "content": [],
        "stop_reason": None, "stop_sequence": None, "usage": start_usage}})]
    idx = 0
    if thinks:
        ev.append(event("content_block_start", {"type": "content_block_start", "index": idx,
                                                "content_block": {"type": "thinking", "thinking": ""}}))
        ev += [event("content_block_delta", {"type": "content_block_delta", "index": idx,
                                             "delta": {"type": "thinking_delta", "thinking": p}}) for p in thinks]
        ev.append(event("content_block_delta", {"type": "content_block_delta", "index": idx,
                                                "delta": {"type": "signature_delta", "signature": SIGNATURE}}))
        ev.append(event("content_block_stop", {"type": "content_block_stop", "index": idx}))
        idx += 1
    if texts:
        ev.append(event("content_block_start", {"type": "content_block_start", "index": idx,
                                                "content_block": {"type": "text", "text": ""}}))
        ev.append(event("ping", {"type": "ping"}))
        ev += [event("content_block_delta", {"type": "content_block_delta", "index": idx,
                                             "delta": {"type": "text_delta", "text": p}}) for p in texts]
        ev.append(event("content_block_stop", {"type": "content_block_stop", "index": idx}))
        idx += 1
    for c in calls:
        ev.append(event("content_block_start", {"type": "content_block_start", "index": idx, "content_block": {
            "type": "tool_use", "id": c["id"], "name": c["name"], "input": {}}}))
        a = c["arguments"]
        third = max(1, len(a) // 3)
        for p in (a[:third], a[third:2 * third], a[2 * third:]):
            if p:
                ev.append(event("content_block_delta", {"type": "content_block_delta", "index": idx,
                                                        "delta": {"type": "input_json_delta", "partial_json": p}}))
        ev.append(event("content_block_stop", {"type": "content_block_stop", "index": idx}))
        idx += 1
    ev.append(event("message_delta", {"type": "message_delta", "delta": {"stop_reason": stop, "stop_sequence": None},
                                      "usage": {"output_tokens": usage.get("output_tokens", 1)}}))
    ev.append(event("message_stop", {"type": "message_stop"}))
    return _cut(r, ev)


# -- OpenAI Responses -----------------------------------------------------------------------------

def _responses(r: Reply, req: Recorded, body: dict[str, Any], calls: list[Any], stream: bool) -> Any:
    model = r.model or str(body.get("model") or "fake-model")
    texts, thinks = _split(r.text, r.chunks), _split(r.reasoning, r.chunks)
    u = _usage(r, req, max(1, len(texts) + len(thinks) + 3 * len(calls)))
    usage = {"input_tokens": u.get("input_tokens", 1), "input_tokens_details": {"cached_tokens": 0},
             "output_tokens": u.get("output_tokens", 1), "output_tokens_details": {"reasoning_tokens": 0},
             "total_tokens": u.get("input_tokens", 1) + u.get("output_tokens", 1)}
    output: list[dict[str, Any]] = []
    if r.reasoning:
        output.append({"type": "reasoning", "id": "rs_1", "summary": [{"type": "summary_text", "text": r.reasoning}],
                       "encrypted_content": ENCRYPTED})
    if r.text:
        output.append({"type": "message", "id": "msg_1", "role": "assistant", "status": "completed",
                       "content": [{"type": "output_text", "text": r.text, "annotations": []}]})
    output += [{"type": "function_call", "id": f"fc_{i}", "call_id": c["id"], "name": c["name"],
                "arguments": c["arguments"], "status": "completed"} for i, c in enumerate(calls)]
    incomplete = r.finish_reason == "length"
    resp = {"id": "resp_1", "object": "response", "model": model, "status": "incomplete" if incomplete else "completed",
            "output": output, "usage": usage, "error": None,
            "incomplete_details": {"reason": "max_output_tokens"} if incomplete else None}
    if not stream:
        return JSONResponse(resp)
    seq = itertools.count(1)

    def ev(name: str, **data: Any) -> Raw:
        return event(name, {"type": name, "sequence_number": next(seq), **data})

    items: list[Any] = [ev("response.created", response={**resp, "status": "in_progress", "output": [],
                                                         "usage": None}),
                        ev("response.in_progress", response={**resp, "status": "in_progress", "output": []})]
    for n, item in enumerate(output):
        if item["type"] == "reasoning":
            items.append(ev("response.output_item.added", output_index=n, item={**item, "summary": [],
                                                                               "encrypted_content": None}))
            items += [ev("response.reasoning_summary_text.delta", item_id=item["id"], output_index=n,
                         summary_index=0, delta=p) for p in thinks]
        elif item["type"] == "message":
            items.append(ev("response.output_item.added", output_index=n, item={**item, "content": [],
                                                                               "status": "in_progress"}))
            items.append(ev("response.content_part.added", item_id=item["id"], output_index=n, content_index=0,
                            part={"type": "output_text", "text": "", "annotations": []}))
            items += [ev("response.output_text.delta", item_id=item["id"], output_index=n, content_index=0, delta=p)
                      for p in texts]
            items.append(ev("response.output_text.done", item_id=item["id"], output_index=n, content_index=0,
                            text=r.text))
        else:
            items.append(ev("response.output_item.added", output_index=n, item={**item, "arguments": "",
                                                                               "status": "in_progress"}))
            a = item["arguments"]
            third = max(1, len(a) // 3)
            items += [ev("response.function_call_arguments.delta", item_id=item["id"], output_index=n, delta=p)
                      for p in (a[:third], a[third:2 * third], a[2 * third:]) if p]
            items.append(ev("response.function_call_arguments.done", item_id=item["id"], output_index=n,
                            arguments=a))
        items.append(ev("response.output_item.done", output_index=n, item=item))
    items.append(ev("response.incomplete" if incomplete else "response.completed", response=resp))
    return _cut(r, items)


# -- Gemini -----------------------------------------------------------------------------------------

def _gemini(r: Reply, req: Recorded, body: dict[str, Any], calls: list[Any], stream: bool) -> Any:
    texts, thinks = _split(r.text, r.chunks), _split(r.reasoning, r.chunks)
    u = _usage(r, req, max(1, len(texts) + len(thinks) + 3 * len(calls)))
    usage = {"promptTokenCount": u.get("input_tokens", 1), "candidatesTokenCount": u.get("output_tokens", 1),
             "totalTokenCount": u.get("input_tokens", 1) + u.get("output_tokens", 1)}
    finish = "MAX_TOKENS" if r.finish_reason == "length" else "STOP"
    parts: list[dict[str, Any]] = [{"text": p, "thought": True} for p in thinks]
    parts += [{"text": p} for p in texts]
    parts += [{"functionCall": {"name": c["name"], "args": json.loads(c["arguments"])},
               **({"thoughtSignature": THOUGHT_SIGNATURE} if i == 0 else {})} for i, c in enumerate(calls)]
    if parts and r.reasoning and not calls:
        parts[-1] = {**parts[-1], "thoughtSignature": THOUGHT_SIGNATURE}

    def chunk(ps: list[dict[str, Any]], last: bool) -> dict[str, Any]:
        cand: dict[str, Any] = {"content": {"role": "model", "parts": ps}, "index": 0}
        out: dict[str, Any] = {"candidates": [cand], "modelVersion": str(r.model or "gemini-2.5-flash")}
        if last:
            cand["finishReason"] = finish
            out["usageMetadata"] = usage
        return out

    if not stream:
        return JSONResponse(chunk(parts, True))
    items: list[Any] = [chunk([p], i == len(parts) - 1) for i, p in enumerate(parts)] or [chunk([], True)]
    return _cut(r, items)


def wire_bytes(path: str, r: Reply, body: dict[str, Any] | None = None) -> bytes:
    """The whole streamed body the fake server would send for ``r`` on this wire's path."""
    from support.fakeserver import sse_bytes

    req_body = {"model": "m", "stream": True, **(body or {})}
    req = Recorded("POST", path, {}, json.dumps(req_body).encode(), req_body, 0.0, "alt=sse")
    sse = render(r, req)
    return b"".join(x for x in sse_bytes(sse.items, done=False) if isinstance(x, bytes))


# -- profiles ---------------------------------------------------------------------------------------

# Anthropic's models as its API answers them: which forms of thinking each takes, and which
# effort levels (output_config.effort) the adaptive ones take. A model not listed takes both.
ADAPTIVE_ONLY = ("claude-opus-4-7",)
BUDGET_ONLY = ("claude-sonnet-4-5", "claude-haiku-4-5", "claude-opus-4-5", "claude-opus-4-1")
EFFORTS = {"claude-opus-4-7": ("low", "medium", "high", "xhigh", "max")}
EFFORTS_4_6 = ("low", "medium", "high", "max")


def _anthropic_refusals(body: dict[str, Any]) -> Any:
    model = str(body.get("model") or "")
    thinking = body.get("thinking") if isinstance(body.get("thinking"), dict) else {}
    kind = thinking.get("type")
    if kind == "enabled" and model.startswith(ADAPTIVE_ONLY):
        return anthropic_error(400, "invalid_request_error", '"thinking.type.enabled" is not supported for this '
                               'model. Use "thinking.type.adaptive" and "output_config.effort" to control thinking '
                               "behavior.")
    if kind == "adaptive" and model.startswith(BUDGET_ONLY):
        return anthropic_error(400, "invalid_request_error", "adaptive thinking is not supported on this model")
    effort = (body.get("output_config") or {}).get("effort")
    if effort is not None and effort not in EFFORTS.get(model, EFFORTS_4_6):
        return anthropic_error(400, "invalid_request_error", f"output_config.effort: Input should be "
                               f"{', '.join(repr(e) for e in EFFORTS.get(model, EFFORTS_4_6))}")
    return None


GENERATION_CONFIG = frozenset((
    "stopSequences", "responseMimeType", "responseSchema", "responseJsonSchema", "responseModalities", "candidateCount",
    "maxOutputTokens", "temperature", "topP", "topK", "seed", "presencePenalty", "frequencyPenalty", "responseLogprobs",
    "logprobs", "thinkingConfig", "mediaResolution", "speechConfig"))
THINKING_CONFIG = frozenset(("thinkingBudget", "includeThoughts", "thinkingLevel"))


def _google_error(message: str, field: str | None = None) -> ErrorResponse:
    """Google's 400 for a request it cannot take, with the google.rpc.BadRequest detail."""
    err: dict[str, Any] = {"code": 400, "message": message, "status": "INVALID_ARGUMENT"}
    if field is not None:
        err["details"] = [{"@type": "type.googleapis.com/google.rpc.BadRequest",
                           "fieldViolations": [{"field": field, "description": message}]}]
    return ErrorResponse(400, {"error": err})


def _unknown(name: str, at: str) -> ErrorResponse:
    return _google_error(f'Invalid JSON payload received. Unknown name "{name}" at \'{at}\': Cannot find field.', at)


def _gemini_refusals(known: frozenset[str] = GENERATION_CONFIG, thinking: bool = True) -> Any:
    def check(body: dict[str, Any]) -> Any:
        gen = body.get("generationConfig") if isinstance(body.get("generationConfig"), dict) else {}
        for name in gen:
            if name not in known:
                return _unknown(name, "generation_config")
        cfg = gen.get("thinkingConfig") if isinstance(gen.get("thinkingConfig"), dict) else {}
        for name in cfg:
            if name not in THINKING_CONFIG:
                return _unknown(name, "generation_config.thinking_config")
        if not thinking and cfg.get("includeThoughts"):
            return _google_error("Unable to submit request because Thinking_config.include_thoughts is only enabled "
                                 "when thinking is enabled.. Learn more: https://cloud.google.com/vertex-ai/"
                                 "generative-ai/docs/model-reference/gemini")
        if not thinking and "thinkingBudget" in cfg:
            return _google_error("Unable to submit request because thinking_budget is only supported when thinking "
                                 "is enabled")
        return None

    return check


WIRE_PROFILES: dict[str, Profile] = {p.name: p for p in (
    Profile("anthropic", check=_anthropic_refusals, context_window=10**9),
    Profile("gemini-native", check=_gemini_refusals(), context_window=10**9),
    Profile("gemini-no-thinking", check=_gemini_refusals(thinking=False), context_window=10**9),
    Profile("gemini-old", check=_gemini_refusals(GENERATION_CONFIG - {"responseSchema", "thinkingConfig"}),
            context_window=10**9),
)}
