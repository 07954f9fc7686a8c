"""Gemini: ``streamGenerateContent?alt=sse`` as Google documents it, safety blocks, thought signatures."""

from __future__ import annotations

import dataclasses
import json

import pytest

from lime.catalog.routing import capabilities_for
from lime.providers import open_client
from lime.providers.openai_compat.compat_memory import Lessons
from lime.providers.openai_compat.errors import ProviderError
from lime.providers.openai_compat.types import RequestOptions, ToolSpec
from lime.providers.wires.gemini import WIRE, build_body
from support.fakeserver import FakeServer, error, reply
from support.wires import THOUGHT_SIGNATURE, gemini_sse, wire_bytes

from .conftest import KEY, MakeRoute, track
from .wirecheck import same_at_every_split


def route(make_route: MakeRoute, fake_server: FakeServer, **kw: object):  # type: ignore[no-untyped-def]
    r = make_route("gemini", fake_server.base_url, **kw)
    entry = dataclasses.replace(r.entry, provider="gemini", service=None, param_preset="reasoning_only",
                                                            supports_extended_thinking=True)
    return dataclasses.replace(r, entry=entry, capabilities=capabilities_for(entry, r.preset))


def test_parts_survive_a_split_at_every_byte() -> None:
    raw = wire_bytes("/v1/models/m:streamGenerateContent", reply("héllo ✓", reasoning="hmm ✓",
                                                                 tool_calls=[("f", {"x": "ñ"})]))
    c = same_at_every_split(WIRE, raw)
    assert c.text == "héllo ✓" and c.reasoning == "hmm ✓" and c.finish_reason == "tool_calls"
    assert json.loads(c.tool_calls[0].arguments) == {"x": "ñ"}
    assert c.state is not None and c.state["parts"][-1]["thoughtSignature"] == THOUGHT_SIGNATURE


def test_a_blocked_prompt_is_explained(fake_server: FakeServer, make_route: MakeRoute) -> None:
    fake_server.enqueue(gemini_sse([{"promptFeedback": {"blockReason": "SAFETY"}, "usageMetadata": {
        "promptTokenCount": 5, "totalTokenCount": 5}}]))
    c = track(open_client(route(make_route, fake_server), max_retries=0))
    with pytest.raises(ProviderError) as info:
        list(c.stream([{"role": "user", "content": "hi"}]))
    assert "blocked the prompt (SAFETY)" in str(info.value)


def test_a_safety_finish_is_a_content_filter(fake_server: FakeServer, make_route: MakeRoute) -> None:
    fake_server.enqueue(gemini_sse([{"candidates": [{"content": {"role": "model", "parts": [{"text": "Sure"}]}}]},
                                    {"candidates": [{"content": {"role": "model", "parts": []},
                                                     "finishReason": "SAFETY"}]}]))
    c = track(open_client(route(make_route, fake_server)))
    stream = c.stream([{"role": "user", "content": "hi"}])
    list(stream)
    assert stream.completion.finish_reason == "content_filter" and stream.completion.text == "Sure"


def test_error_body_and_key_header(fake_server: FakeServer, make_route: MakeRoute) -> None:
    fake_server.enqueue(error(429, {"error": {"code": 429, "message": "Resource has been exhausted",
                                              "status": "RESOURCE_EXHAUSTED"}}), reply("ok"))
    c = track(open_client(route(make_route, fake_server), max_retries=2))
    assert "".join(e.text for e in c.stream([{"role": "user", "content": "hi"}]) if e.kind == "text") == "ok"
    req = fake_server.chat_requests[-1]
    assert req.headers["x-goog-api-key"] == KEY and req.query == "alt=sse"
    fake_server.enqueue(reply("x"))
    c.complete([{"role": "user", "content": "hi"}])
    assert fake_server.chat_requests[-1].path.endswith("/models/wire-model:generateContent")


def test_body(make_route: MakeRoute, fake_server: FakeServer) -> None:
    tools = [ToolSpec("f", "d", {"type": "object", "additionalProperties": False, "properties": {}})]
    msgs = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "a"},
            {"role": "assistant", "content": None,
             "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{\"k\": 1}"}}]},
            {"role": "tool", "tool_call_id": "c1", "content": "x"}]
    body = build_body(route(make_route, fake_server), msgs, RequestOptions(tools=tools, reasoning_effort="low"),
                      Lessons(set(), set(), None), stream=True)
    assert body["systemInstruction"] == {"parts": [{"text": "be brief"}]}
    assert [c["role"] for c in body["contents"]] == ["user", "model", "user"]
    assert body["contents"][1]["parts"] == [{"functionCall": {"name": "f", "args": {"k": 1}}}]
    assert body["contents"][2]["parts"][0]["functionResponse"] == {"name": "f", "response": {"content": "x"}}
    assert "additionalProperties" not in body["tools"][0]["functionDeclarations"][0]["parameters"]
    assert body["generationConfig"]["thinkingConfig"] == {"thinkingBudget": 2048, "includeThoughts": True}


def test_overflow_in_geminis_words(fake_server: FakeServer, make_route: MakeRoute) -> None:
    from lime.providers.openai_compat.errors import ContextOverflowError

    fake_server.enqueue(error(400, {"error": {"code": 400, "message": "The input token count (1200000) exceeds the "
                                              "maximum number of tokens allowed (1048576).",
                                              "status": "INVALID_ARGUMENT"}}))
    c = track(open_client(route(make_route, fake_server), max_retries=0))
    with pytest.raises(ContextOverflowError) as info:
        c.complete([{"role": "user", "content": "hi"}])
    assert (info.value.n_prompt, info.value.n_ctx) == (1200000, 1048576)


def test_text_pieces_join_into_parts_and_a_stray_text_on_a_call_is_kept_apart() -> None:
    from lime.providers.openai_compat.stream import Estimator

    proc = WIRE.processor("m", Estimator([], None), {})
    chunks = [{"candidates": [{"content": {"parts": [p]}}]} for p in (
        {"text": "a", "thought": True}, {"text": "b", "thought": True}, {"text": "c"}, {"text": "d"},
        {"text": "e", "thoughtSignature": THOUGHT_SIGNATURE}, {"functionCall": {"name": "f", "args": {}}, "text": 5})]
    for ch in chunks:
        proc.feed(b"data: " + json.dumps(ch).encode() + b"\n\n")
    proc.end()
    c = proc.snapshot()
    assert (c.reasoning, c.text) == ("ab", "cde")
    assert c.state is not None and c.state["parts"] == [
        {"text": "ab", "thought": True}, {"text": "cd"}, {"text": "e", "thoughtSignature": THOUGHT_SIGNATURE},
        {"functionCall": {"name": "f", "args": {}}, "text": 5}]


# The 400 Google sends for a field it does not know inside generationConfig, byte for byte.
UNKNOWN_FOO = {"error": {"code": 400, "message": "Invalid JSON payload received. Unknown name \"foo\" at "
                         "'generation_config': Cannot find field.", "status": "INVALID_ARGUMENT", "details": [
                             {"@type": "type.googleapis.com/google.rpc.BadRequest", "fieldViolations": [
                                 {"field": "generation_config", "description": "Invalid JSON payload received. "
                                  "Unknown name \"foo\" at 'generation_config': Cannot find field."}]}]}}


def test_an_unknown_nested_field_is_dropped_retried_once_and_remembered(fake_server: FakeServer,
                                                                         make_route: MakeRoute) -> None:
    r = route(make_route, fake_server, extra_body={"generationConfig": {"maxOutputTokens": 64, "foo": 1}})
    fake_server.enqueue(error(400, UNKNOWN_FOO), reply("ok"), reply("again"))
    notices: list[str] = []
    c = track(open_client(r, verbose=True, notice=notices.append))
    assert "".join(e.text for e in c.stream([{"role": "user", "content": "hi"}]) if e.kind == "text") == "ok"
    first, second = (req.json["generationConfig"] for req in fake_server.chat_requests)
    assert first == {"maxOutputTokens": 64, "foo": 1} and second == {"maxOutputTokens": 64}
    assert notices == ["gemini (model wire-model) rejected 'generationConfig.foo'; dropped it and retried "
                       "(remembered for next time)"]
    assert r.extra_body == {"generationConfig": {"maxOutputTokens": 64, "foo": 1}}  # the entry is untouched
    c2 = track(open_client(r))
    c2.complete([{"role": "user", "content": "hi"}])
    assert fake_server.chat_requests[-1].json["generationConfig"] == {"maxOutputTokens": 64}
    assert len(fake_server.chat_requests) == 3


def test_a_model_without_thinking_loses_each_thinking_field_it_refuses(fake_server: FakeServer,
                                                                       make_route: MakeRoute) -> None:
    fake_server.use_profile("gemini-no-thinking")
    fake_server.default = reply("ok")
    c = track(open_client(route(make_route, fake_server)))
    assert c.complete([{"role": "user", "content": "hi"}], RequestOptions(reasoning_effort="low")).text == "ok"
    sent = [req.json["generationConfig"].get("thinkingConfig") for req in fake_server.chat_requests]
    assert sent == [{"thinkingBudget": 2048, "includeThoughts": True}, {"thinkingBudget": 2048}, None]
    c2 = track(open_client(route(make_route, fake_server)))
    c2.complete([{"role": "user", "content": "hi"}], RequestOptions(reasoning_effort="high"))
    assert "thinkingConfig" not in fake_server.chat_requests[-1].json["generationConfig"]
    assert len(fake_server.chat_requests) == 4  # both lessons kept: taken at once


def test_an_older_api_without_response_schema_keeps_json_mode(fake_server: FakeServer, make_route: MakeRoute) -> None:
    fake_server.use_profile("gemini-old")
    fake_server.default = reply('{"a": 1}')
    c = track(open_client(route(make_route, fake_server)))
    fmt = {"type": "json_schema", "json_schema": {"name": "a", "schema": {"type": "object"}}}
    assert c.complete([{"role": "user", "content": "hi"}], RequestOptions(response_format=fmt)).text == '{"a": 1}'
    gens = [req.json["generationConfig"] for req in fake_server.chat_requests]
    # thinkingConfig (the entry thinks) and responseSchema are refused in turn; JSON mode stays
    assert "responseSchema" in gens[0] and "responseSchema" not in gens[-1]
    assert gens[-1]["responseMimeType"] == "application/json" and "thinkingConfig" not in gens[-1]
    assert len(gens) == 3


def test_a_field_the_request_does_not_hold_is_not_healed(fake_server: FakeServer, make_route: MakeRoute) -> None:
    fake_server.enqueue(error(400, {"error": {"code": 400, "message": "Invalid JSON payload received. Unknown name "
                                              "\"bar\" at 'generation_config': Cannot find field.",
                                              "status": "INVALID_ARGUMENT"}}))
    c = track(open_client(route(make_route, fake_server), max_retries=0))
    with pytest.raises(ProviderError, match="Unknown name"):
        c.complete([{"role": "user", "content": "hi"}])
    assert len(fake_server.chat_requests) == 1


@pytest.mark.parametrize(("message", "dropped"), [
    ("Unable to submit request because thinking is not configurable in this model; please remove the "
     "thinking_config setting and try it again.", "generationConfig.thinkingConfig"),
    ("The thinking budget (32768) is invalid.", "generationConfig.thinkingConfig.thinkingBudget"),
    ("Invalid JSON payload received. Unknown name \"includeThoughts\" at 'generation_config.thinking_config': "
     "Cannot find field.", "generationConfig.thinkingConfig.includeThoughts")])
def test_googles_other_words_for_a_nested_field(make_route: MakeRoute, fake_server: FakeServer, message: str,
                                                dropped: str) -> None:
    from lime.providers.openai_compat.errors import parse_error_body

    body = build_body(route(make_route, fake_server), [{"role": "user", "content": "thinking_budget"}],
                      RequestOptions(reasoning_effort="high"), Lessons(set(), set(), None), stream=True)
    err = parse_error_body(json.dumps([{"error": {"code": 400, "message": message,
                                                  "status": "INVALID_ARGUMENT"}}]).encode())
    fix = WIRE.heal(err, body, Lessons(set(), set(), None))
    assert fix is not None and fix.field == dropped and dropped in fix.lessons.drop


def test_an_unknown_name_inside_a_schema_is_not_guessed_at(make_route: MakeRoute, fake_server: FakeServer) -> None:
    from lime.providers.openai_compat.errors import parse_error_body

    fmt = {"type": "json_schema", "json_schema": {"name": "a", "schema": {
        "type": "object", "properties": {"x": {"type": "string", "title": "X"}}}}}
    body = build_body(route(make_route, fake_server), [{"role": "user", "content": "hi"}],
                      RequestOptions(response_format=fmt), Lessons(set(), set(), None), stream=True)
    assert body["generationConfig"]["responseSchema"]["properties"]["x"]["title"] == "X"
    err = parse_error_body(json.dumps({"error": {"code": 400, "status": "INVALID_ARGUMENT", "message":
                                                 "Invalid JSON payload received. Unknown name \"title\" at "
                                                 "'generation_config.response_schema.properties[0].value': Cannot "
                                                 "find field."}}).encode())
    assert WIRE.heal(err, body, Lessons(set(), set(), None)) is None
    body["temperature"] = 0.5  # sent at the top level by mistake: the common healing drops that one
    err = parse_error_body(json.dumps({"error": {"code": 400, "status": "INVALID_ARGUMENT", "message":
                                                 "Invalid JSON payload received. Unknown name \"temperature\": "
                                                 "Cannot find field."}}).encode())
    body["generationConfig"]["temperature"] = 0.5
    assert WIRE.heal(err, body, Lessons(set(), set(), None)) is None
