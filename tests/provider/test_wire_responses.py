"""OpenAI Responses: the ``response.*`` stream as OpenAI documents it, hostile shapes, and what goes back."""

from __future__ import annotations

import dataclasses
import json

import pytest

from lime.catalog.routing import capabilities_for
from lime.providers import open_client
from lime.providers.openai_compat.compat_memory import Lessons
from lime.providers.openai_compat.errors import ProviderError
from lime.providers.openai_compat.types import RequestOptions
from lime.providers.wires.responses import WIRE, build_body
from support.fakeserver import FakeServer, error, reply
from support.wires import ENCRYPTED, responses_sse, wire_bytes

from .conftest import MakeRoute, track
from .wirecheck import same_at_every_split


def route(make_route: MakeRoute, fake_server: FakeServer, **kw: object):  # type: ignore[no-untyped-def]
    r = make_route("openai", fake_server.base_url, **kw)
    entry = dataclasses.replace(r.entry, provider="openai", service=None,
                                                            param_preset="reasoning_and_verbosity")
    return dataclasses.replace(r, entry=entry, capabilities=capabilities_for(entry, r.preset))


def test_text_reasoning_and_calls_survive_a_split_at_every_byte() -> None:
    raw = wire_bytes("/v1/responses", reply("héllo ✓", reasoning="plan ✓",
                                            tool_calls=[("a", {"p": "ñ✓"}), ("b", {"q": [1]})]))
    c = same_at_every_split(WIRE, raw)
    assert c.text == "héllo ✓" and c.reasoning == "plan ✓" and c.finish_reason == "tool_calls"
    assert [(t.name, json.loads(t.arguments)) for t in c.tool_calls] == [("a", {"p": "ñ✓"}), ("b", {"q": [1]})]
    assert c.state == {"wire": "responses", "reasoning": [
        {"type": "reasoning", "id": "rs_1", "summary": [{"type": "summary_text", "text": "plan ✓"}],
         "encrypted_content": ENCRYPTED}]}


def test_unknown_events_skipped_and_error_event_mid_stream(fake_server: FakeServer, make_route: MakeRoute) -> None:
    fake_server.enqueue(responses_sse([
        ("response.created", {"response": {"id": "r", "status": "in_progress", "output": []}}),
        ("response.future_thing.delta", {"delta": "??"}),
        ("response.output_text.delta", {"item_id": "m", "output_index": 0, "content_index": 0, "delta": "par"}),
        ("error", {"code": "server_error", "message": "The server had an error", "param": None}),
    ]))
    c = track(open_client(route(make_route, fake_server), max_retries=0))
    with pytest.raises(ProviderError) as info:
        list(c.stream([{"role": "user", "content": "hi"}]))
    assert "The server had an error" in str(info.value)
    assert info.value.partial is not None and info.value.partial.text == "par"


def test_failed_response_is_an_error(fake_server: FakeServer, make_route: MakeRoute) -> None:
    fake_server.enqueue(responses_sse([("response.failed", {"response": {
        "id": "r", "status": "failed", "output": [], "error": {"code": "rate_limit_exceeded", "message": "slow down"}}})]),
        reply("ok"))
    c = track(open_client(route(make_route, fake_server), max_retries=2))
    assert "".join(e.text for e in c.stream([{"role": "user", "content": "hi"}]) if e.kind == "text") == "ok"


def test_incomplete_is_a_length_finish(fake_server: FakeServer, make_route: MakeRoute) -> None:
    fake_server.enqueue(reply("cut", finish_reason="length"))
    c = track(open_client(route(make_route, fake_server)))
    stream = c.stream([{"role": "user", "content": "hi"}])
    list(stream)
    assert stream.completion.finish_reason == "length"


def test_refused_optional_field_is_healed(fake_server: FakeServer, make_route: MakeRoute) -> None:
    fake_server.enqueue(error(400, {"error": {"message": "Unsupported parameter: 'service_tier'", "type":
                                              "invalid_request_error", "param": "service_tier",
                                              "code": "unsupported_parameter"}}), reply("ok"))
    c = track(open_client(route(make_route, fake_server)))
    answer = c.complete([{"role": "user", "content": "hi"}], RequestOptions(extra={"service_tier": "flex"}))
    assert answer.text == "ok"
    first, second = fake_server.chat_requests
    assert first.json["service_tier"] == "flex" and "service_tier" not in second.json


def test_body(make_route: MakeRoute, fake_server: FakeServer) -> None:
    msgs = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "a"},
            {"role": "assistant", "content": "thinking done", "_wire": {"wire": "responses", "reasoning": [
                {"type": "reasoning", "id": "rs", "summary": [], "encrypted_content": "E"}]},
             "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
            {"role": "tool", "tool_call_id": "c1", "content": "x"}]
    body = build_body(route(make_route, fake_server), msgs,
                      RequestOptions(reasoning_effort="high", verbosity="low", max_tokens=50),
                      Lessons(set(), set(), None), stream=True)
    assert body["instructions"] == "be brief" and body["store"] is False and body["max_output_tokens"] == 50
    assert [i.get("type") for i in body["input"]] == ["message", "reasoning", "message", "function_call",
                                                      "function_call_output"]
    assert body["reasoning"] == {"effort": "high", "summary": "auto"}
    assert body["include"] == ["reasoning.encrypted_content"] and body["text"] == {"verbosity": "low"}


def test_overflow_in_the_responses_words(fake_server: FakeServer, make_route: MakeRoute) -> None:
    from lime.providers.openai_compat.errors import ContextOverflowError

    fake_server.enqueue(error(400, {"error": {"message": "Your input exceeds the context window of this model. Please "
                                              "adjust your input and try again.", "type": "invalid_request_error",
                                              "param": "input", "code": "context_length_exceeded"}}))
    c = track(open_client(route(make_route, fake_server), max_retries=0))
    with pytest.raises(ContextOverflowError):
        list(c.stream([{"role": "user", "content": "hi"}]))


def test_the_async_client_speaks_the_wire_too(fake_server: FakeServer, make_route: MakeRoute) -> None:
    import asyncio

    from lime.providers.openai_compat import AsyncChatClient

    fake_server.enqueue(reply("async ✓", chunks=3), reply("whole"))

    async def go() -> tuple[str, str]:
        async with AsyncChatClient(route(make_route, fake_server), wire=WIRE) as c:
            text = "".join([e.text async for e in c.stream([{"role": "user", "content": "hi"}]) if e.kind == "text"])
            whole = await c.complete([{"role": "user", "content": "hi"}])
            return text, whole.text

    assert asyncio.run(go()) == ("async ✓", "whole")
    assert [r.path for r in fake_server.chat_requests] == ["/v1/responses", "/v1/responses"]


def test_a_message_sent_whole_at_its_end_is_not_lost(fake_server: FakeServer, make_route: MakeRoute) -> None:
    msg = {"type": "message", "id": "m1", "role": "assistant", "content": [{"type": "output_text", "text": "whole"}]}
    fake_server.enqueue(responses_sse([
        ("response.output_item.added", {"output_index": 0, "item": {**msg, "content": []}}),
        ("response.output_item.done", {"output_index": 0, "item": msg}),
        ("response.completed", {"response": {"id": "r", "status": "completed", "output": [msg],
                                             "usage": {"input_tokens": 3, "output_tokens": 1}}})]))
    c = track(open_client(route(make_route, fake_server)))
    assert "".join(e.text for e in c.stream([{"role": "user", "content": "hi"}]) if e.kind == "text") == "whole"
