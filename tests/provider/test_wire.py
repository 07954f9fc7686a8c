"""Exactly what goes on the wire for every preset, and how refused fields are healed and remembered."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from lime.catalog.presets import PUBLIC_PRESET_IDS
from lime.providers.openai_compat import compat_memory
from lime.providers.openai_compat.client import ChatClient
from lime.providers.openai_compat.errors import ProviderError
from lime.providers.openai_compat.types import RequestOptions, ToolSpec
from support.fakeserver import PROFILES, FakeServer, error, reply

from .conftest import KEY, MakeRoute, track

TOOL = ToolSpec("read_file", "Read a file.", {"type": "object", "properties": {"path": {"type": "string"}},
                                               "required": ["path"]})
CONVERSATION: list[dict[str, Any]] = [
    {"role": "system", "content": "You are terse."},
    {"role": "user", "content": "What is in README?"},
    {"role": "assistant", "content": None, "reasoning_content": "I should read it.",
     "tool_calls": [{"id": "call_1", "type": "function",
                     "function": {"name": "read_file", "arguments": "{\"path\": \"README\"}"}}]},
    {"role": "tool", "tool_call_id": "call_1", "content": "# Demo"},
    {"role": "user", "content": "Summarise it.", "_meta": {"ts": 1}},
]
OPTIONS = RequestOptions(max_tokens=256, reasoning_effort="high", verbosity="low", tools=[TOOL], tool_choice="auto")

# What each preset may receive for a model whose entry allows reasoning and verbosity but does not
# declare parallel tool calls: (stream_options, output-cap field, reasoning_effort, verbosity, tools).
EXPECTED: dict[str, tuple[bool, str, bool, bool, bool]] = {
    "openai": (True, "max_completion_tokens", True, True, True),
    "groq": (True, "max_tokens", True, False, True),
    "openrouter": (True, "max_tokens", True, False, True),
    "together": (True, "max_tokens", True, False, True),
    "mistral": (False, "max_tokens", False, False, True),
    "deepinfra": (True, "max_tokens", False, False, True),
    "cerebras": (False, "max_tokens", True, False, True),
    "xai": (True, "max_tokens", True, False, True),
    "perplexity": (False, "max_tokens", False, False, False),
    "cohere": (False, "max_tokens", False, False, True),
    "nvidia": (True, "max_tokens", False, False, True),
    "ollama": (False, "max_tokens", True, False, False),
}


def expected_body(service: str) -> dict[str, Any]:
    usage, cap, reasoning, verbosity, tools = EXPECTED[service]
    keep_reasoning = service == "ollama"
    msgs = []
    for m in CONVERSATION:
        m = {k: v for k, v in m.items() if not k.startswith("_")}
        if not keep_reasoning:
            m.pop("reasoning_content", None)
        msgs.append(m)
    body: dict[str, Any] = {"model": "wire-model", "messages": msgs, "stream": True}
    if usage:
        body["stream_options"] = {"include_usage": True}
    body[cap] = 256
    if reasoning:
        body["reasoning_effort"] = "high"
    if verbosity:
        body["verbosity"] = "low"
    if tools:
        body["tools"] = [TOOL.to_wire()]
        body["tool_choice"] = "auto"
    return body


def test_every_public_preset_is_covered() -> None:
    assert set(EXPECTED) == set(PUBLIC_PRESET_IDS)


@pytest.mark.parametrize("service", sorted(EXPECTED))
def test_wire_body_and_headers_per_preset(fake_server: FakeServer, make_route: MakeRoute, service: str) -> None:
    """Each preset's request, sent to a server that behaves like that service, goes through first time."""
    fake_server.use_profile(service)
    fake_server.enqueue(reply("Done."))
    key = None if service == "ollama" else KEY
    c = track(ChatClient(make_route(service, fake_server.base_url, key=key,
                                    param_preset="reasoning-and-verbosity")))
    with c.stream(CONVERSATION, OPTIONS) as s:
        list(s)
    assert s.completion.text == "Done."
    assert len(fake_server.chat_requests) == 1, fake_server.chat_requests[0].body
    req = fake_server.last
    assert req.method == "POST" and req.path == "/v1/chat/completions"
    assert req.json == expected_body(service)
    assert req.headers["content-type"] == "application/json"
    assert req.headers["accept"] == "text/event-stream"
    assert req.headers.get("authorization") == (f"Bearer {KEY}" if key else None)
    # usage: from the server where it sends it (asked or not), else estimated
    usage = s.completion.usage
    assert usage is not None
    sends_usage = EXPECTED[service][0] or PROFILES[service].usage_unasked
    assert usage.estimated is (not sends_usage)


def test_parallel_tool_calls_only_when_the_entry_declares_it(fake_server: FakeServer, make_route: MakeRoute) -> None:
    fake_server.enqueue(reply("a"), reply("b"))
    for flag in (False, True):
        c = track(ChatClient(make_route("groq", fake_server.base_url, supports_parallel_tool_calls=flag)))
        c.complete(CONVERSATION, OPTIONS)
        assert ("parallel_tool_calls" in fake_server.last.json) is flag
    assert fake_server.last.json["parallel_tool_calls"] is True and "stream" not in fake_server.last.json


def test_local_and_custom_servers_get_optional_fields_only_when_declared(fake_server: FakeServer,
                                                                         make_route: MakeRoute) -> None:
    fake_server.enqueue(reply("a"), reply("b"))
    plain = track(ChatClient(make_route("my-vllm", fake_server.base_url)))
    plain.complete(CONVERSATION, OPTIONS)
    body = fake_server.last.json
    assert set(body) == {"model", "messages", "max_tokens"}
    assert body["messages"][2]["reasoning_content"] == "I should read it."  # custom servers may need it back
    declared = track(ChatClient(make_route("my-vllm", fake_server.base_url, supports_tools=True,
                                           supports_include_usage=True, param_preset="reasoning")))
    with declared.stream(CONVERSATION, OPTIONS) as s:
        list(s)
    body = fake_server.last.json
    assert body["stream_options"] == {"include_usage": True} and body["reasoning_effort"] == "high"
    assert body["tools"] == [TOOL.to_wire()] and "verbosity" not in body


def test_reasoning_levels_are_mapped_to_what_the_service_takes(fake_server: FakeServer, make_route: MakeRoute) -> None:
    fake_server.default = reply("ok")
    sent = []
    for service, level in (("xai", "medium"), ("xai", "xhigh"), ("groq", "xhigh"), ("groq", "none"),
                           ("openai", "none"), ("openai", "xhigh")):
        c = track(ChatClient(make_route(service, fake_server.base_url, param_preset="reasoning")))
        c.complete([{"role": "user", "content": "hi"}], RequestOptions(reasoning_effort=level))
        sent.append(fake_server.last.json.get("reasoning_effort"))
    assert sent == ["low", "high", "high", None, "none", "xhigh"]


# ----------------------------------------------------------------------------------------------
# Self-healing


def stream_once(c: ChatClient, messages: list[dict[str, Any]] | None = None,
                options: RequestOptions | None = None) -> str:
    with c.stream(messages or [{"role": "user", "content": "hi"}], options or RequestOptions(max_tokens=64)) as s:
        list(s)
    return s.completion.text


def memory(home: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((home / "compat.json").read_text())
    return data


def test_mistral_422_on_stream_options_is_dropped_retried_and_remembered(
        fake_server: FakeServer, make_route: MakeRoute, lime_home: Path) -> None:
    fake_server.use_profile("mistral")
    fake_server.enqueue(reply("Bonjour"), reply("Encore"))
    notices: list[str] = []
    route = make_route("mistral", fake_server.base_url, supports_include_usage=True)
    c = track(ChatClient(route, verbose=True, notice=notices.append))
    assert stream_once(c) == "Bonjour"
    first, second = fake_server.chat_requests
    assert first.json["stream_options"] == {"include_usage": True}
    assert "stream_options" not in second.json and second.json["max_tokens"] == 64
    assert compat_memory.load("mistral", "wire-model", fake_server.base_url).drop == {"stream_options"}
    assert len(notices) == 1 and "stream_options" in notices[0] and "mistral" in notices[0]
    assert (lime_home / "compat.json").stat().st_mode & 0o777 == 0o600
    # the next run (a new client) does not pay again; -v names the lesson once and how to undo it
    c2 = track(ChatClient(route, verbose=True, notice=notices.append))
    assert stream_once(c2) == "Encore"
    assert "stream_options" not in fake_server.chat_requests[2].json
    assert len(notices) == 2 and "not sending 'stream_options'" in notices[1]
    assert "lime model forget" in notices[1]


def test_no_notice_when_not_verbose(fake_server: FakeServer, make_route: MakeRoute) -> None:
    fake_server.use_profile("azure")
    fake_server.enqueue(reply("ok"))
    notices: list[str] = []
    c = track(ChatClient(make_route("azure-proxy", fake_server.base_url, supports_include_usage=True),
                         notice=notices.append))
    assert stream_once(c) == "ok" and notices == []
    assert [("stream_options" in r.json) for r in fake_server.chat_requests] == [True, False]


def test_several_refused_fields_in_turn(fake_server: FakeServer, make_route: MakeRoute, lime_home: Path) -> None:
    """An old vLLM refuses reasoning_effort and stream_options, one error at a time."""
    fake_server.use_profile("vllm-old")
    fake_server.enqueue(reply("ok"))
    c = track(ChatClient(make_route("old-vllm", fake_server.base_url, supports_include_usage=True,
                                    param_preset="reasoning")))
    assert stream_once(c, options=RequestOptions(reasoning_effort="low")) == "ok"
    assert len(fake_server.chat_requests) == 3
    assert compat_memory.load("old-vllm", "wire-model", fake_server.base_url).drop == {"reasoning_effort",
                                                                                       "stream_options"}


def test_o_series_max_tokens_renamed_and_parallel_tool_calls_dropped(fake_server: FakeServer,
                                                                     make_route: MakeRoute, lime_home: Path) -> None:
    fake_server.use_profile("openai-o")
    fake_server.enqueue(reply("ok"))
    c = track(ChatClient(make_route("o-proxy", fake_server.base_url, supports_parallel_tool_calls=True)))
    text = stream_once(c, options=RequestOptions(max_tokens=500, tools=[TOOL]))
    assert text == "ok"
    bodies = [r.json for r in fake_server.chat_requests]
    assert [("max_tokens" in b, "max_completion_tokens" in b, "parallel_tool_calls" in b) for b in bodies] == [
        (True, False, True), (False, True, True), (False, True, False)]
    assert bodies[-1]["max_completion_tokens"] == 500  # the cap survives the rename
    lessons = compat_memory.load("o-proxy", "wire-model", fake_server.base_url)
    assert lessons.max_tokens_field == "max_completion_tokens" and lessons.drop == {"parallel_tool_calls"}


def test_cohere_n_and_lmstudio_tool_choice(fake_server: FakeServer, make_route: MakeRoute) -> None:
    fake_server.use_profile("cohere")
    fake_server.enqueue(reply("ok"))
    c = track(ChatClient(make_route("cohere", fake_server.base_url)))
    assert c.complete([{"role": "user", "content": "hi"}], RequestOptions(extra={"n": 1})).text == "ok"
    assert ["n" in r.json for r in fake_server.chat_requests] == [True, False]
    fake_server.use_profile("lmstudio")
    fake_server.enqueue(reply("ok"))
    c = track(ChatClient(make_route("lmstudio", fake_server.base_url, supports_tools=True)))
    forced = {"type": "function", "function": {"name": "read_file"}}
    assert c.complete([{"role": "user", "content": "hi"}],
                      RequestOptions(tools=[TOOL], tool_choice=forced)).text == "ok"
    assert [r.json.get("tool_choice") for r in fake_server.chat_requests[2:]] == [forced, None]
    assert fake_server.last.json["tools"] == [TOOL.to_wire()]


def test_mistral_refusing_reasoning_content_in_messages(fake_server: FakeServer, make_route: MakeRoute) -> None:
    fake_server.use_profile("mistral")
    fake_server.enqueue(reply("ok"))
    c = track(ChatClient(make_route("mistral-proxy", fake_server.base_url, supports_tools=True)))
    assert c.complete(CONVERSATION).text == "ok"
    first, second = fake_server.chat_requests
    assert "reasoning_content" in first.json["messages"][2]
    assert "reasoning_content" not in second.json["messages"][2]
    assert second.json["messages"][2]["tool_calls"] == CONVERSATION[2]["tool_calls"]
    assert compat_memory.load("mistral-proxy", "wire-model", fake_server.base_url).strip_message_fields == {"reasoning_content"}


def test_gemini_style_reasoning_none_refusal(fake_server: FakeServer, make_route: MakeRoute) -> None:
    fake_server.use_profile("gemini")
    fake_server.enqueue(reply("ok"))
    c = track(ChatClient(make_route("openai", fake_server.base_url, param_preset="reasoning")))
    assert c.complete([{"role": "user", "content": "hi"}], RequestOptions(reasoning_effort="none")).text == "ok"
    assert [r.json.get("reasoning_effort") for r in fake_server.chat_requests] == ["none", None]


def test_an_unfixable_400_is_not_retried(fake_server: FakeServer, make_route: MakeRoute) -> None:
    fake_server.enqueue(error(400, {"error": {"message": "messages[1].content: expected string", "type":
                                              "invalid_request_error", "param": "messages"}}))
    c = track(ChatClient(make_route("groq", fake_server.base_url)))
    with pytest.raises(ProviderError) as info:
        c.complete([{"role": "user", "content": "hi"}], RequestOptions(max_tokens=5))
    assert info.value.kind == "bad_request" and "expected string" in str(info.value)
    assert len(fake_server.chat_requests) == 1


def test_a_field_is_healed_only_once(fake_server: FakeServer, make_route: MakeRoute) -> None:
    """A server that keeps complaining about a field we no longer send: give up after one retry."""
    fake_server.default = error(400, {"error": {"message": "Unrecognized request argument supplied: stream_options"}})
    c = track(ChatClient(make_route("groq", fake_server.base_url)))
    with pytest.raises(ProviderError) as info:
        stream_once(c)
    assert info.value.kind == "bad_request" and len(fake_server.chat_requests) == 2


def test_damaged_memory_file_is_ignored(fake_server: FakeServer, make_route: MakeRoute, lime_home: Path) -> None:
    lime_home.mkdir(parents=True, exist_ok=True)
    (lime_home / "compat.json").write_text("{not json")
    fake_server.enqueue(reply("ok"))
    c = track(ChatClient(make_route("groq", fake_server.base_url)))
    assert stream_once(c) == "ok"


def test_an_overflow_naming_max_tokens_is_not_healed(fake_server: FakeServer, make_route: MakeRoute) -> None:
    """vLLM words "prompt + max_tokens too big" as an overflow: compaction's job, not a field to drop."""
    from lime.providers.openai_compat.errors import ContextOverflowError

    fake_server.enqueue(error(400, {"object": "error", "message": "'max_tokens' or 'max_completion_tokens' is too "
                                    "large: 1000. This model's maximum context length is 2048 tokens and your "
                                    "request has 1500 input tokens (1000 > 2048 - 1500). max_tokens is not "
                                    "supported above the remaining context.", "type": "BadRequestError"}))
    c = track(ChatClient(make_route("my-vllm", fake_server.base_url)))
    with pytest.raises(ContextOverflowError):
        c.complete([{"role": "user", "content": "hi"}], RequestOptions(max_tokens=1000))
    assert len(fake_server.chat_requests) == 1


def test_response_format_only_where_supported(fake_server: FakeServer, make_route: MakeRoute) -> None:
    fake_server.default = reply("{}")
    schema = {"type": "json_schema", "json_schema": {"name": "r", "schema": {"type": "object"}}}
    sent = {}
    for service in ("openai", "groq", "perplexity", "ollama", "my-proxy"):
        c = track(ChatClient(make_route(service, fake_server.base_url)))
        c.complete([{"role": "user", "content": "json please"}], RequestOptions(response_format=schema))
        sent[service] = fake_server.last.json.get("response_format")
    assert sent == {"openai": schema, "groq": schema, "perplexity": None, "ollama": None, "my-proxy": None}


def _learn(args: tuple[str, str]) -> None:
    import os

    os.environ["LIME_CONFIG_HOME"] = args[0]
    for i in range(5):
        compat_memory.save(args[1], f"model-{i}", compat_memory.Lessons(drop={f"field_{i}"}))


def test_concurrent_processes_learning_lose_nothing(lime_home: Path) -> None:
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(4) as pool:
        pool.map(_learn, [(str(lime_home), f"svc{n}") for n in range(4)])
    endpoints = memory(lime_home)["endpoints"]
    assert sorted(endpoints) == ["svc0 ", "svc1 ", "svc2 ", "svc3 "]
    assert all(compat_memory.load(f"svc{n}", f"model-{i}").drop == {f"field_{i}"} for n in range(4) for i in range(5))
