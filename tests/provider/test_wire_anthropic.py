"""Anthropic Messages: the stream as Anthropic documents it, hostile shapes, and what goes back."""

from __future__ import annotations

import json

import pytest

from lime.providers import open_client
from lime.providers.openai_compat.errors import ProviderError
from lime.providers.openai_compat.types import RequestOptions, ToolSpec
from lime.providers.wires.anthropic import WIRE, build_body
from support.fakeserver import Close, FakeServer, Raw, error, reply
from support.wires import SIGNATURE, anthropic_error, anthropic_sse, wire_bytes

from .conftest import KEY, MakeRoute, track
from .wirecheck import same_at_every_split

TOOLS = [ToolSpec("read_file", "read", {"type": "object", "properties": {"path": {"type": "string"}}})]


def route(make_route: MakeRoute, fake_server: FakeServer, **kw: object):  # type: ignore[no-untyped-def]
    import dataclasses

    r = make_route("anthropic", fake_server.base_url, **kw)
    return dataclasses.replace(r, entry=dataclasses.replace(r.entry, provider="anthropic", service=None))


def test_text_thinking_and_a_tool_call_survive_a_split_at_every_byte() -> None:
    raw = wire_bytes("/v1/messages", reply("héllo ✓ wörld", reasoning="thinking… ✓",
                                           tool_calls=[("read_file", {"path": "ñ/✓.txt", "n": [1, 2]})]))
    c = same_at_every_split(WIRE, raw)
    assert c.text == "héllo ✓ wörld" and c.reasoning == "thinking… ✓"
    assert json.loads(c.tool_calls[0].arguments) == {"path": "ñ/✓.txt", "n": [1, 2]}
    assert c.finish_reason == "tool_calls"
    assert c.state == {"wire": "anthropic", "thinking": [
        {"type": "thinking", "thinking": "thinking… ✓", "signature": SIGNATURE}]}


def test_unknown_events_and_pings_are_skipped(fake_server: FakeServer, make_route: MakeRoute) -> None:
    fake_server.enqueue(anthropic_sse([
        ("message_start", {"message": {"id": "m", "model": "claude-x", "content": [], "usage": {"input_tokens": 7}}}),
        ("ping", {}),
        ("content_block_future", {"index": 0, "whatever": [1, 2]}),
        ("content_block_start", {"index": 0, "content_block": {"type": "text", "text": ""}}),
        ("content_block_delta", {"index": 0, "delta": {"type": "text_delta", "text": "ok"}}),
        ("content_block_delta", {"index": 0, "delta": {"type": "citations_delta", "citation": {}}}),
        ("content_block_stop", {"index": 0}),
        ("message_delta", {"delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 2}}),
        ("message_stop", {}),
    ]))
    c = track(open_client(route(make_route, fake_server)))
    stream = c.stream([{"role": "user", "content": "hi"}])
    assert "".join(e.text for e in stream if e.kind == "text") == "ok"
    done = stream.completion
    assert done.finish_reason == "stop" and done.usage is not None and done.usage.prompt_tokens == 7
    assert done.model == "claude-x"


def test_overloaded_before_output_is_retried_and_after_output_keeps_the_partial(
        fake_server: FakeServer, make_route: MakeRoute) -> None:
    start = ("message_start", {"message": {"id": "m", "model": "x", "content": [], "usage": {"input_tokens": 1}}})
    overloaded = ("error", {"error": {"type": "overloaded_error", "message": "Overloaded"}})
    fake_server.enqueue(anthropic_error(529, "overloaded_error", "Overloaded"), anthropic_sse([start, overloaded]),
                        reply("fine"))
    c = track(open_client(route(make_route, fake_server), max_retries=3))
    assert "".join(e.text for e in c.stream([{"role": "user", "content": "hi"}]) if e.kind == "text") == "fine"
    assert len(fake_server.chat_requests) == 3
    fake_server.enqueue(anthropic_sse([
        start, ("content_block_start", {"index": 0, "content_block": {"type": "text", "text": ""}}),
        ("content_block_delta", {"index": 0, "delta": {"type": "text_delta", "text": "half"}}), overloaded]))
    with pytest.raises(ProviderError) as info:
        list(c.stream([{"role": "user", "content": "hi"}]))
    assert info.value.partial is not None and info.value.partial.text == "half"
    assert "Overloaded" in str(info.value)


def test_a_cut_stream_is_not_an_answer(fake_server: FakeServer, make_route: MakeRoute) -> None:
    fake_server.enqueue(anthropic_sse([
        ("message_start", {"message": {"id": "m", "model": "x", "content": [], "usage": {"input_tokens": 1}}}),
        ("content_block_start", {"index": 0, "content_block": {"type": "text", "text": ""}}),
        ("content_block_delta", {"index": 0, "delta": {"type": "text_delta", "text": "cut"}}), Close()]))
    c = track(open_client(route(make_route, fake_server), max_retries=0))
    with pytest.raises(ProviderError) as info:
        list(c.stream([{"role": "user", "content": "hi"}]))
    assert info.value.partial is not None and info.value.partial.text == "cut"


def test_a_malformed_event_names_the_wire(fake_server: FakeServer, make_route: MakeRoute) -> None:
    fake_server.enqueue(anthropic_sse([Raw("event: content_block_delta\ndata: {\"index\": 0, \"delta\": 5, "
                                           "\"type\": \"content_block_delta\"}\n\n")]))
    c = track(open_client(route(make_route, fake_server), max_retries=0))
    with pytest.raises(ProviderError) as info:
        list(c.stream([{"role": "user", "content": "hi"}]))
    assert "anthropic" in str(info.value)


def test_the_key_goes_in_x_api_key_and_never_in_an_error(fake_server: FakeServer, make_route: MakeRoute) -> None:
    fake_server.enqueue(anthropic_error(401, "authentication_error", f"invalid x-api-key {KEY}"))
    c = track(open_client(route(make_route, fake_server), max_retries=0))
    with pytest.raises(ProviderError) as info:
        c.complete([{"role": "user", "content": "hi"}])
    assert KEY not in str(info.value) and info.value.kind == "auth"
    req = fake_server.chat_requests[-1]
    assert req.headers["x-api-key"] == KEY and "authorization" not in req.headers


def test_non_streamed_answer_and_refusal(fake_server: FakeServer, make_route: MakeRoute) -> None:
    fake_server.enqueue(reply("no", finish_reason="refusal"))
    c = track(open_client(route(make_route, fake_server)))
    answer = c.complete([{"role": "user", "content": "hi"}])
    assert answer.text == "no" and answer.finish_reason == "content_filter"
    assert fake_server.chat_requests[-1].json.get("stream") is None


def test_body_alternates_roles_and_sends_thinking_back(make_route: MakeRoute, fake_server: FakeServer) -> None:
    from lime.providers.openai_compat.compat_memory import Lessons

    msgs = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "a"},
            {"role": "assistant", "content": None, "_wire": {"wire": "anthropic", "thinking": [
                {"type": "thinking", "thinking": "t", "signature": "s"}]},
             "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "read_file", "arguments": "{}"}}]},
            {"role": "tool", "tool_call_id": "c1", "content": "x"}, {"role": "user", "content": "b"}]
    body = build_body(route(make_route, fake_server), msgs, RequestOptions(tools=TOOLS, tool_choice="auto"),
                      Lessons(set(), set(), None), stream=True)
    assert [t["role"] for t in body["messages"]] == ["user", "assistant", "user"]
    assert body["messages"][1]["content"][0] == {"type": "thinking", "thinking": "t", "signature": "s"}
    assert [b["type"] for b in body["messages"][2]["content"]] == ["tool_result", "text"]
    assert body["system"] == [{"type": "text", "text": "be brief", "cache_control": {"type": "ephemeral"}}]
    assert body["tool_choice"] == {"type": "auto"}
    marked = [b for t in body["messages"] for b in t["content"] if "cache_control" in b]
    assert len(marked) == 2  # the two latest user turns


@pytest.mark.parametrize(("message", "numbers"), [
    ("prompt is too long: 208310 tokens > 200000 maximum", (208310, 200000)),
    ("input length and `max_tokens` exceed context limit: 198000 + 8192 > 200000, decrease input length or "
     "`max_tokens` and try again", (None, None)),
])
def test_overflow_in_anthropics_words(fake_server: FakeServer, make_route: MakeRoute, message: str,
                                      numbers: tuple[int, int]) -> None:
    from lime.providers.openai_compat.errors import ContextOverflowError

    fake_server.enqueue(anthropic_error(400, "invalid_request_error", message))
    c = track(open_client(route(make_route, fake_server), max_retries=0))
    with pytest.raises(ContextOverflowError) as info:
        c.complete([{"role": "user", "content": "hi"}])
    assert (info.value.n_prompt, info.value.n_ctx) == numbers


def test_a_proxy_refusing_thinking_is_healed_and_remembered(fake_server: FakeServer, make_route: MakeRoute) -> None:
    import dataclasses

    from lime.catalog.routing import capabilities_for

    r = route(make_route, fake_server)
    entry = dataclasses.replace(r.entry, param_preset="reasoning_only")
    r = dataclasses.replace(r, entry=entry, capabilities=capabilities_for(entry, r.preset))
    fake_server.enqueue(anthropic_error(400, "invalid_request_error", "thinking: Extra inputs are not permitted"),
                        reply("ok"), reply("again"))
    c = track(open_client(r))
    assert c.complete([{"role": "user", "content": "hi"}], RequestOptions(reasoning_effort="low")).text == "ok"
    first, second = fake_server.chat_requests
    assert first.json["thinking"] == {"type": "enabled", "budget_tokens": 2048} and "thinking" not in second.json
    c2 = track(open_client(r))
    c2.complete([{"role": "user", "content": "hi"}], RequestOptions(reasoning_effort="low"))
    assert "thinking" not in fake_server.chat_requests[-1].json  # remembered for this endpoint


def test_an_hour_of_cache_where_the_entry_asks(make_route: MakeRoute, fake_server: FakeServer) -> None:
    from lime.providers.openai_compat.compat_memory import Lessons

    r = route(make_route, fake_server, extra_body={"cache_ttl": "1h"})
    body = build_body(r, [{"role": "system", "content": "s"}, {"role": "user", "content": "u"}],
                      RequestOptions(tools=TOOLS), Lessons(set(), set(), None), stream=True)
    assert body["system"][-1]["cache_control"] == {"type": "ephemeral", "ttl": "1h"}
    assert body["tools"][-1]["cache_control"] == {"type": "ephemeral", "ttl": "1h"}
    assert body["messages"][-1]["content"][-1]["cache_control"] == {"type": "ephemeral"}  # the rolling tail
    assert "cache_ttl" not in body


@pytest.mark.parametrize("wire", ["anthropic", "responses", "gemini"])
def test_an_event_that_is_not_utf8_is_a_malformed_chunk_even_first(wire: str) -> None:
    import importlib

    from lime.providers.openai_compat.stream import Estimator, MalformedChunk

    proc = importlib.import_module(f"lime.providers.wires.{wire}").WIRE.processor("m", Estimator([], None), {})
    with pytest.raises(MalformedChunk):
        proc.feed(b"event: x\ndata: \xff{\n\n")


def builtin(make_route: MakeRoute, fake_server: FakeServer, slug: str):  # type: ignore[no-untyped-def]
    import dataclasses

    from lime.catalog.builtin import BUILTIN_ENTRIES
    from lime.catalog.routing import capabilities_for

    r = make_route("anthropic", fake_server.base_url)
    entry = next(e for e in BUILTIN_ENTRIES if e.slug == slug)
    return dataclasses.replace(r, entry=entry, capabilities=capabilities_for(entry, r.preset))


@pytest.mark.parametrize(("slug", "adaptive"), [("claude-opus-4-7", True), ("claude-sonnet-4-6", True),
                                                ("claude-opus-4-6", True), ("claude-haiku-4-5", False),
                                                ("claude-sonnet-4-5", False), ("claude-opus-4-1", False)])
def test_each_built_in_model_is_sent_the_thinking_it_takes(fake_server: FakeServer, make_route: MakeRoute,
                                                           slug: str, adaptive: bool) -> None:
    fake_server.use_profile("anthropic")
    fake_server.default = reply("ok", reasoning="hmm")
    c = track(open_client(builtin(make_route, fake_server, slug), max_retries=0))
    for effort, level, budget in (("minimal", "low", 1024), ("high", "high", 16384), ("xhigh", "max", 32000)):
        stream = c.stream([{"role": "user", "content": "hi"}], RequestOptions(reasoning_effort=effort))
        assert "".join(e.text for e in stream if e.kind == "text") == "ok"
        assert stream.completion.reasoning == "hmm"
        body = fake_server.chat_requests[-1].json
        if adaptive:
            assert body["thinking"] == {"type": "adaptive"} and body["output_config"] == {"effort": level}
        else:
            assert body["thinking"] == {"type": "enabled", "budget_tokens": budget} and "output_config" not in body
        assert body["max_tokens"] > budget and "temperature" not in body
    assert len(fake_server.chat_requests) == 3  # each taken at once: nothing refused
    c.complete([{"role": "user", "content": "hi"}])
    assert "thinking" not in fake_server.chat_requests[-1].json and "output_config" not in fake_server.chat_requests[-1].json


@pytest.mark.parametrize(("slug", "served", "first", "then"), [
    ("claude-sonnet-4-5", "claude-opus-4-7", "enabled", "adaptive"),  # an entry that does not know the model
    ("claude-opus-4-6", "claude-haiku-4-5", "adaptive", "enabled")])  # a proxy serving another model
def test_a_refused_form_of_thinking_is_healed_once_and_remembered(
        fake_server: FakeServer, make_route: MakeRoute, slug: str, served: str, first: str, then: str) -> None:
    import dataclasses

    fake_server.use_profile("anthropic")
    fake_server.default = reply("ok")
    r = builtin(make_route, fake_server, slug)
    r = dataclasses.replace(r, entry=dataclasses.replace(r.entry, api_id=served))
    notices: list[str] = []
    c = track(open_client(r, verbose=True, notice=notices.append))
    assert c.complete([{"role": "user", "content": "hi"}], RequestOptions(reasoning_effort="low")).text == "ok"
    sent = [req.json["thinking"]["type"] for req in fake_server.chat_requests]
    assert sent == [first, then]
    names = {"adaptive": "adaptive thinking", "enabled": "a thinking budget"}
    assert notices == [f"anthropic (model {served}) rejected {names[first]} (sending {names[then]} instead); "
                       "replaced it and retried (remembered for next time)"]
    c2 = track(open_client(r))
    c2.complete([{"role": "user", "content": "hi"}], RequestOptions(reasoning_effort="low"))
    assert fake_server.chat_requests[-1].json["thinking"]["type"] == then and len(fake_server.chat_requests) == 3


def test_a_proxy_refusing_both_forms_gets_no_thinking(fake_server: FakeServer, make_route: MakeRoute) -> None:
    fake_server.enqueue(
        error(422, {"detail": [{"type": "literal_error", "loc": ["body", "thinking", "type"],
                                "msg": "Input should be 'enabled' or 'disabled'", "input": "adaptive"}]}),
        anthropic_error(400, "invalid_request_error", '"thinking.type.enabled" is not supported for this model. '
                        'Use "thinking.type.adaptive" and "output_config.effort" to control thinking behavior.'),
        reply("ok"))
    c = track(open_client(builtin(make_route, fake_server, "claude-opus-4-6")))
    assert c.complete([{"role": "user", "content": "hi"}], RequestOptions(reasoning_effort="high")).text == "ok"
    first, second, third = (r.json for r in fake_server.chat_requests)
    assert first["thinking"]["type"] == "adaptive" and second["thinking"]["type"] == "enabled"
    assert "thinking" not in third and "output_config" not in third
