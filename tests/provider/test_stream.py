"""Streaming over real HTTP from the fake server: what the caller gets, and what it keeps on failure."""

from __future__ import annotations

import threading
import time

import pytest

from lime.providers.openai_compat.client import ChatClient
from lime.providers.openai_compat.errors import ProviderError
from lime.providers.openai_compat.types import (
    FinishEvent,
    ReasoningDelta,
    RequestOptions,
    TextDelta,
    ToolCallEvent,
    UsageEvent,
)
from support.fakeserver import (
    SSE,
    Close,
    Comment,
    Delay,
    FakeServer,
    Raw,
    Reply,
    reasoning_stream,
    reply,
    text_stream,
    tool_call_stream,
)

from .conftest import MakeRoute, track

HI = [{"role": "user", "content": "Say hello to the whole world, please."}]


def client(fake_server: FakeServer, make_route: MakeRoute, service: str = "openai", **kw: object) -> ChatClient:
    return track(ChatClient(make_route(service, fake_server.base_url, **kw)))


def run(c: ChatClient, options: RequestOptions | None = None) -> tuple[list[object], object]:
    s = c.stream(HI, options or RequestOptions())
    with s:
        events = list(s)
    return events, s.completion


def test_text_stream_events_and_server_usage(fake_server: FakeServer, make_route: MakeRoute) -> None:
    fake_server.enqueue(text_stream("Hello there, world!", chunks=4))
    events, c = run(client(fake_server, make_route))
    texts = [e.text for e in events if isinstance(e, TextDelta)]
    assert "".join(texts) == "Hello there, world!" and len(texts) == 4
    assert isinstance(events[-2], FinishEvent) and events[-2].reason == "stop"
    usage = events[-1]
    assert isinstance(usage, UsageEvent) and not usage.usage.estimated
    # the usage chunk (empty choices) came after the finish chunk and was still read
    assert usage.usage.completion_tokens == 4 and c.usage == usage.usage  # type: ignore[attr-defined]
    assert c.text == "Hello there, world!" and c.finish_reason == "stop"  # type: ignore[attr-defined]


def test_usage_estimated_when_server_sends_none(fake_server: FakeServer, make_route: MakeRoute) -> None:
    # Perplexity's preset does not ask for usage; this server sends none unasked
    fake_server.enqueue(text_stream("Hello there, world!", usage=None))
    events, c = run(client(fake_server, make_route, "perplexity"))
    assert "stream_options" not in fake_server.last.json
    u = c.usage  # type: ignore[attr-defined]
    assert u.estimated and u.prompt_tokens > 10 and abs(u.completion_tokens - 5) <= 1  # o200k: 5
    assert u.total_tokens == u.prompt_tokens + u.completion_tokens


def test_reasoning_content_and_reasoning_fields(fake_server: FakeServer, make_route: MakeRoute) -> None:
    fake_server.enqueue(reasoning_stream("Let me think.", "Answer.", field="reasoning_content"),
                        reasoning_stream("Hmm, ok.", "", field="reasoning"))
    c = client(fake_server, make_route)
    events, comp = run(c)
    assert "".join(e.text for e in events if isinstance(e, ReasoningDelta)) == "Let me think."
    assert comp.text == "Answer." and comp.reasoning == "Let me think."  # type: ignore[attr-defined]
    # LM Studio style: reasoning only, no content at all
    events, comp = run(c)
    assert comp.text == "" and comp.reasoning == "Hmm, ok." and comp.finish_reason == "stop"  # type: ignore[attr-defined]


@pytest.mark.parametrize("interleave", [False, True])
def test_parallel_tool_calls_assembled_by_index(fake_server: FakeServer, make_route: MakeRoute,
                                                interleave: bool) -> None:
    fake_server.enqueue(tool_call_stream([("read_file", {"path": "src/app.py", "start": 1}),
                                          ("grep", {"pattern": "def main", "glob": "**/*.py"}),
                                          ("list_dir", {})], interleave=interleave))
    events, comp = run(client(fake_server, make_route))
    calls = [e.call for e in events if isinstance(e, ToolCallEvent)]
    assert [(c.id, c.name, c.arguments) for c in calls] == [
        ("call_0", "read_file", '{"path": "src/app.py", "start": 1}'),
        ("call_1", "grep", '{"pattern": "def main", "glob": "**/*.py"}'),
        ("call_2", "list_dir", "{}"),
    ]
    kinds = [e.kind for e in events]
    assert kinds == ["tool_call", "tool_call", "tool_call", "finish", "usage"]
    assert comp.finish_reason == "tool_calls" and comp.to_message()["tool_calls"][1]["function"]["name"] == "grep"  # type: ignore[attr-defined]


def test_tool_calls_without_index_discipline(fake_server: FakeServer, make_route: MakeRoute) -> None:
    """Servers that send every call with index 0 (and a new id), or no index at all."""
    def chunk(tc: dict[str, object], finish: str | None = None) -> dict[str, object]:
        return {"choices": [{"index": 0, "delta": {"tool_calls": [tc]} if tc else {}, "finish_reason": finish}]}

    fake_server.enqueue(SSE([
        chunk({"index": 0, "id": "a", "function": {"name": "one", "arguments": '{"x":'}}),
        chunk({"index": 0, "function": {"arguments": "1}"}}),
        chunk({"index": 0, "id": "b", "function": {"name": "two", "arguments": "{}"}}),
        chunk({"id": "c", "function": {"name": "three", "arguments": '{"y"'}}),
        chunk({"function": {"arguments": ":2}"}}),
        chunk({}, "stop"),
    ]))
    events, comp = run(client(fake_server, make_route))
    assert [(c.id, c.name, c.arguments) for c in comp.tool_calls] == [  # type: ignore[attr-defined]
        ("a", "one", '{"x":1}'), ("b", "two", "{}"), ("c", "three", '{"y":2}')]
    # "stop" after tool calls is reported as tool_calls so callers run them
    assert comp.finish_reason == "tool_calls"  # type: ignore[attr-defined]


def test_keepalive_comments_blank_events_and_crlf(fake_server: FakeServer, make_route: MakeRoute) -> None:
    fake_server.enqueue(Reply("Fine thanks", comments=[": OPENROUTER PROCESSING", ": OPENROUTER PROCESSING"],
                              line_ending="\r\n", force_stream=True))
    fake_server.enqueue(SSE([Comment("ping"), Raw("\n\n\n"), Raw("data:\n\n"),
                             {"choices": [{"delta": {"content": "ok"}, "finish_reason": "stop"}]}]))
    c = client(fake_server, make_route)
    assert run(c)[1].text == "Fine thanks"  # type: ignore[attr-defined]
    assert run(c)[1].text == "ok"  # type: ignore[attr-defined]


def test_missing_done_after_finish_is_a_normal_end(fake_server: FakeServer, make_route: MakeRoute) -> None:
    fake_server.enqueue(text_stream("All done.", done=False),
                        SSE([{"choices": [{"delta": {"content": "closed"}, "finish_reason": "stop"}]}],
                            done=False, framing="close"))
    c = client(fake_server, make_route)
    assert run(c)[1].text == "All done."  # type: ignore[attr-defined]
    assert run(c)[1].text == "closed"  # type: ignore[attr-defined]


def test_reset_mid_stream_keeps_partial_and_is_not_retried(fake_server: FakeServer, make_route: MakeRoute) -> None:
    fake_server.enqueue(Reply("one two three four five", cut_after=3, force_stream=True), reply("never sent"))
    c = client(fake_server, make_route)
    s = c.stream(HI, RequestOptions())
    got: list[str] = []
    with pytest.raises(ProviderError) as info:
        for e in s:
            if isinstance(e, TextDelta):
                got.append(e.text)
    err = info.value
    assert err.kind == "connection" and "mid-answer" in str(err) and "wire-model" in str(err)
    assert got == ["one", " two"] and err.partial is not None and err.partial.text == "one two"
    assert s.completion.text == "one two"
    assert len(fake_server.chat_requests) == 1  # output had reached the caller: no retry


def test_close_before_any_output_is_retried(fake_server: FakeServer, make_route: MakeRoute) -> None:
    fake_server.enqueue(SSE([Comment("keep-alive"), Close()]), text_stream("second try"))
    events, comp = run(client(fake_server, make_route))
    assert comp.text == "second try" and len(fake_server.chat_requests) == 2  # type: ignore[attr-defined]


def test_clean_close_without_finish_after_output_is_an_error(fake_server: FakeServer,
                                                             make_route: MakeRoute) -> None:
    fake_server.enqueue(SSE([{"choices": [{"delta": {"content": "half an ans"}}]}], done=False, framing="close"))
    with pytest.raises(ProviderError) as info:
        run(client(fake_server, make_route))
    assert info.value.kind == "connection" and "before the answer finished" in str(info.value)
    assert info.value.partial is not None and info.value.partial.text == "half an ans"


def test_malformed_json_chunk(fake_server: FakeServer, make_route: MakeRoute) -> None:
    fake_server.enqueue(SSE([{"choices": [{"delta": {"content": "Hel"}}]}, Raw('data: {"choices": [{"delta"\n\n')]))
    with pytest.raises(ProviderError) as info:
        run(client(fake_server, make_route))
    err = info.value
    assert err.kind == "server" and "not valid JSON" in str(err) and err.partial.text == "Hel"  # type: ignore[union-attr]
    assert len(fake_server.chat_requests) == 1


def test_malformed_first_chunk_is_retried(fake_server: FakeServer, make_route: MakeRoute) -> None:
    fake_server.enqueue(SSE([Raw("data: <html>oops\n\n")]), text_stream("fine"))
    assert run(client(fake_server, make_route))[1].text == "fine"  # type: ignore[attr-defined]


def test_error_inside_the_stream(fake_server: FakeServer, make_route: MakeRoute) -> None:
    fake_server.enqueue(SSE([{"choices": [{"delta": {"content": "Partial"}}]},
                             {"error": {"message": "Upstream provider overloaded", "code": 502}}], done=False))
    with pytest.raises(ProviderError) as info:
        run(client(fake_server, make_route))
    assert info.value.kind == "server" and "Upstream provider overloaded" in str(info.value)
    assert info.value.partial.text == "Partial"  # type: ignore[union-attr]


def test_chunk_split_at_every_byte_boundary_over_the_wire(fake_server: FakeServer, make_route: MakeRoute) -> None:
    items = [
        {"choices": [{"delta": {"content": "Gr\u00fc\u00df"}}]},
        {"choices": [{"delta": {"reasoning_content": "hm"}}]},
        {"choices": [{"delta": {"tool_calls": [{"index": 0, "id": "t", "function": {"name": "f", "arguments": "{\"a\""}}]}}]},
        {"choices": [{"delta": {"tool_calls": [{"index": 0, "function": {"arguments": ":1}"}}]}}]},
        {"choices": [{"delta": {}, "finish_reason": "tool_calls"}]},
        {"choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7}},
    ]
    from support.fakeserver import sse_bytes

    size = sum(len(b) for b in sse_bytes(items, line_ending="\r\n") if isinstance(b, bytes))
    c = client(fake_server, make_route)
    for k in range(1, size):
        fake_server.enqueue(SSE(items, line_ending="\r\n", split_at=[k], write_delay=0.0005))
        events, comp = run(c)
        assert comp.text == "Grüß" and comp.reasoning == "hm", k  # type: ignore[attr-defined]
        assert [(t.id, t.name, t.arguments) for t in comp.tool_calls] == [("t", "f", '{"a":1}')], k  # type: ignore[attr-defined]
        assert comp.usage.total_tokens == 7 and [e.kind for e in events][-2:] == ["finish", "usage"], k  # type: ignore[attr-defined]
    assert fake_server.connections <= 2  # keep-alive: one connection served them all


def test_close_from_another_thread_hangs_up_promptly(fake_server: FakeServer, make_route: MakeRoute) -> None:
    fake_server.enqueue(SSE([{"choices": [{"delta": {"content": "first"}}]}, Delay(30),
                             {"choices": [{"delta": {"content": "late"}}]}]))
    c = client(fake_server, make_route)
    s = c.stream(HI, RequestOptions())
    first = next(iter(s))
    assert isinstance(first, TextDelta) and first.text == "first"
    timer = threading.Timer(0.2, s.close)
    t0 = time.monotonic()
    timer.start()
    rest = list(s)
    assert time.monotonic() - t0 < 5
    assert all(not isinstance(e, TextDelta) for e in rest)
    assert s.completion.text == "first"
    # the client still works afterwards
    fake_server.enqueue(text_stream("next"))
    assert run(c)[1].text == "next"  # type: ignore[attr-defined]


def test_breaking_out_of_the_loop_closes_the_connection(fake_server: FakeServer, make_route: MakeRoute) -> None:
    fake_server.enqueue(SSE([{"choices": [{"delta": {"content": "a"}}]}, Delay(30), {"choices": []}]))
    c = client(fake_server, make_route)
    t0 = time.monotonic()
    with c.stream(HI, RequestOptions()) as s:
        for _ in s:
            break
    assert time.monotonic() - t0 < 5


def test_a_proxy_setting_does_not_hijack_a_local_server(fake_server: FakeServer, make_route: MakeRoute,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.setenv(var, "http://127.0.0.1:9")  # nothing listens there
    fake_server.enqueue(text_stream("direct"))
    assert run(client(fake_server, make_route))[1].text == "direct"  # type: ignore[attr-defined]


def test_ctrl_c_mid_stream_hangs_up_and_keeps_what_arrived(fake_server: FakeServer, make_route: MakeRoute) -> None:
    import signal

    fake_server.enqueue(SSE([{"choices": [{"delta": {"content": "Once upon a time"}}]}, Delay(30),
                             {"choices": []}]))
    c = client(fake_server, make_route)
    s = c.stream(HI, RequestOptions())
    got: list[str] = []
    old = signal.signal(signal.SIGALRM, lambda *a: signal.raise_signal(signal.SIGINT))
    t0 = time.monotonic()
    try:
        with pytest.raises(KeyboardInterrupt), s:
            for e in s:
                if isinstance(e, TextDelta):
                    got.append(e.text)
                    t0 = time.monotonic()
                    signal.setitimer(signal.ITIMER_REAL, 0.3)  # Ctrl-C while the server stalls
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    assert time.monotonic() - t0 < 2 and got == ["Once upon a time"]
    comp = s.completion
    assert comp.text == "Once upon a time" and comp.usage is not None and comp.usage.estimated
    fake_server.enqueue(text_stream("the session goes on"))
    assert run(c)[1].text == "the session goes on"  # type: ignore[attr-defined]


def test_server_that_ignores_stream_true(fake_server: FakeServer, make_route: MakeRoute) -> None:
    from support.fakeserver import JSONResponse, chat_completion

    body = chat_completion("Whole answer at once", tool_calls=[("f", {"x": 1})],
                           usage={"prompt_tokens": 9, "completion_tokens": 4, "total_tokens": 13})
    fake_server.enqueue(JSONResponse(body))
    events, comp = run(client(fake_server, make_route))
    assert [e.kind for e in events] == ["text", "tool_call", "finish", "usage"]
    assert comp.text == "Whole answer at once" and comp.tool_calls[0].arguments == '{"x": 1}'  # type: ignore[attr-defined]
    assert comp.usage.total_tokens == 13 and not comp.usage.estimated  # type: ignore[attr-defined]


@pytest.mark.parametrize("payload", [
    {"error": {"message": "Provider returned error", "code": 502}, "choices": [
        {"index": 0, "delta": {"content": ""}, "finish_reason": "error"}]},
    {"object": "error", "message": "Internal server error during generation", "type": "InternalServerError",
     "code": 500},
])
def test_error_chunks_of_openrouter_and_vllm(fake_server: FakeServer, make_route: MakeRoute,
                                             payload: dict[str, object]) -> None:
    fake_server.enqueue(SSE([{"choices": [{"delta": {"content": "So far"}}]}, payload]))
    with pytest.raises(ProviderError) as info:
        run(client(fake_server, make_route))
    assert info.value.kind == "server" and info.value.partial.text == "So far"  # type: ignore[union-attr]
    assert "error in stream" in str(info.value)


def test_a_proxy_setting_does_not_hijack_localhost_either(fake_server: FakeServer, make_route: MakeRoute,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.setenv(var, "http://127.0.0.1:9")  # nothing listens there
    fake_server.enqueue(text_stream("direct"))
    c = track(ChatClient(make_route("openai", f"http://localhost:{fake_server.port}/v1")))
    assert run(c)[1].text == "direct"  # type: ignore[attr-defined]


def test_a_query_on_the_base_url_reaches_the_endpoint(fake_server: FakeServer, make_route: MakeRoute) -> None:
    fake_server.enqueue(text_stream("hi"))
    c = track(ChatClient(make_route("azure-proxy", fake_server.base_url + "?api-version=2024-10-21")))
    assert run(c)[1].text == "hi"  # type: ignore[attr-defined]
    assert (fake_server.last.path, fake_server.last.query) == ("/v1/chat/completions", "api-version=2024-10-21")


def test_chunk_of_the_wrong_shape_is_a_bad_response_naming_the_field(fake_server: FakeServer,
                                                                      make_route: MakeRoute) -> None:
    fake_server.enqueue(SSE([{"choices": [{"delta": {"content": "Hel"}}]}, {"choices": [7]}]))
    with pytest.raises(ProviderError) as info:
        run(client(fake_server, make_route))
    err = info.value
    assert err.kind == "bad_response" and "`choices[0]` is the number 7, expected an object" in str(err)
    assert err.partial is not None and err.partial.text == "Hel" and len(fake_server.chat_requests) == 1


def test_padded_payloads_and_other_event_names_take_the_careful_path(fake_server: FakeServer,
                                                                     make_route: MakeRoute) -> None:
    fake_server.enqueue(SSE([Raw('data:   {"choices": [{"delta": {"content": "a"}}]}  \n\n'),
                             Raw('event: completion\ndata: {"choices": [{"delta": {"content": "b"}}]}\n\n'),
                             {"choices": [{"delta": {"content": "c"}, "finish_reason": "stop"}]}]))
    assert run(client(fake_server, make_route))[1].text == "abc"  # type: ignore[attr-defined]


@pytest.mark.parametrize("payload", ['{"choices": []} trailing', '[1, 2]', '"text"',
                                     '{"choices": [{"delta": {"content": "x"}}]}' + " " * 300 + "{" * 200])
def test_chunks_that_are_not_one_json_object_are_malformed(fake_server: FakeServer, make_route: MakeRoute,
                                                           payload: str) -> None:
    fake_server.enqueue(SSE([{"choices": [{"delta": {"content": "Hel"}}]}, Raw(f"data: {payload}\n\n")]))
    with pytest.raises(ProviderError) as info:
        run(client(fake_server, make_route))
    assert info.value.kind == "server" and "not valid JSON" in str(info.value)
    assert info.value.partial is not None and info.value.partial.text == "Hel"


@pytest.mark.parametrize("depth", [300, 5000])
def test_deeply_nested_chunk_within_the_recursion_limit_is_refused(fake_server: FakeServer,
                                                                   make_route: MakeRoute, depth: int) -> None:
    deep = '{"choices": [{"delta": {"content": "x", "extra": ' + "[" * depth + "]" * depth + "}}]}"
    fake_server.enqueue(SSE([{"choices": [{"delta": {"content": "Hel"}}]}, Raw(f"data: {deep}\n\n")]))
    with pytest.raises(ProviderError) as info:
        run(client(fake_server, make_route))
    assert info.value.kind == "bad_response" and "JSON nested more than 128 levels deep" in str(info.value)
    assert info.value.partial is not None and info.value.partial.text == "Hel"


def test_a_bad_chunk_left_at_the_end_of_the_body_is_a_bad_response(fake_server: FakeServer,
                                                                   make_route: MakeRoute) -> None:
    fake_server.enqueue(SSE([{"choices": [{"delta": {"content": "Hi"}, "finish_reason": "stop"}]},
                             Raw('data: {"choices": [5]}\n')], done=False))
    with pytest.raises(ProviderError) as info:
        run(client(fake_server, make_route))
    assert info.value.kind == "bad_response" and "`choices[0]`" in str(info.value)
    assert info.value.partial is not None and info.value.partial.text == "Hi"
