"""A hostile or broken server against the client, in process: malformed replies, redirects, unbounded
bodies, error codes and wait hints. (The same attacks through the ``lime`` command, fewer of each:
tests/e2e/test_hostile.py.)"""

from __future__ import annotations

import asyncio

import pytest

from lime.providers.openai_compat.client import AsyncChatClient, ChatClient
from lime.providers.openai_compat.errors import ProviderError, retry_hint, status_from_code
from lime.providers.openai_compat.types import RequestOptions
from support.fakeserver import (
    SSE,
    FakeServer,
    Flood,
    Raw,
    endless_stream,
    gzip_bomb,
    huge_line,
    json_response,
    redirect,
    reply,
    text_stream,
)
from support.hostile import DEEP, MALFORMED_BODIES, MALFORMED_CHUNKS, raw_json

from .conftest import MakeRoute, track

HI = [{"role": "user", "content": "hi"}]


def client(server: FakeServer, make_route: MakeRoute) -> ChatClient:
    return track(ChatClient(make_route("openai", server.base_url), max_retries=2))


def stream_error(c: ChatClient) -> ProviderError:
    with pytest.raises(ProviderError) as info, c.stream(HI, RequestOptions()) as s:
        for _ in s:
            pass
    return info.value


# -- 5. malformed replies ---------------------------------------------------------------------------



@pytest.mark.parametrize("case", list(MALFORMED_CHUNKS))
def test_a_malformed_chunk_is_a_bad_response_naming_the_field(fake_server: FakeServer, make_route: MakeRoute,
                                                              case: str) -> None:
    chunk, expected = MALFORMED_CHUNKS[case]
    fake_server.enqueue(SSE([{"choices": [{"delta": {"content": "Partial "}}]}, Raw(f"data: {chunk}\n\n")]))
    err = stream_error(client(fake_server, make_route))
    assert err.kind == "bad_response" and not err.retryable
    assert str(err).startswith("openai (model wire-model): malformed response: ") and expected in str(err)
    assert err.partial is not None and err.partial.text == "Partial "
    assert len(fake_server.chat_requests) == 1  # the server meant it: not retried


def test_a_malformed_first_chunk_is_not_retried_either(fake_server: FakeServer, make_route: MakeRoute) -> None:
    fake_server.enqueue(SSE([Raw('data: {"choices": "abc"}\n\n')]), text_stream("fine"))
    assert stream_error(client(fake_server, make_route)).kind == "bad_response"
    assert len(fake_server.chat_requests) == 1




@pytest.mark.parametrize("case", list(MALFORMED_BODIES))
def test_a_malformed_body_is_a_bad_response_naming_the_field(fake_server: FakeServer, make_route: MakeRoute,
                                                             case: str) -> None:
    body, expected = MALFORMED_BODIES[case]
    fake_server.enqueue(raw_json(body))
    with pytest.raises(ProviderError) as info:
        client(fake_server, make_route).complete(HI)
    assert info.value.kind == "bad_response" and expected in str(info.value), str(info.value)
    assert len(fake_server.chat_requests) == 1


@pytest.mark.parametrize("case", ["choices-object", "deep"])
def test_the_async_client_says_the_same(fake_server: FakeServer, make_route: MakeRoute, case: str) -> None:
    fake_server.enqueue(SSE([Raw(f"data: {MALFORMED_CHUNKS[case][0]}\n\n")]), raw_json(MALFORMED_BODIES["choices-string"][0]))

    async def go() -> tuple[str, str]:
        async with AsyncChatClient(make_route("openai", fake_server.base_url)) as c:
            with pytest.raises(ProviderError) as streamed:
                async with c.stream(HI) as s:
                    async for _ in s:
                        pass
            with pytest.raises(ProviderError) as whole:
                await c.complete(HI)
        return str(streamed.value), str(whole.value)

    streamed, whole = asyncio.run(go())
    assert MALFORMED_CHUNKS[case][1] in streamed and MALFORMED_BODIES["choices-string"][1] in whole


# -- 4. redirects -------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_no_redirect_leaves_the_origin(fake_server: FakeServer, other_server: FakeServer, make_route: MakeRoute,
                                       status: int) -> None:
    other_server.enqueue(reply("from elsewhere"), reply("from elsewhere"))
    fake_server.enqueue(redirect(other_server.base_url + "/chat/completions", status),
                        redirect(other_server.base_url + "/chat/completions", status))
    c = client(fake_server, make_route)
    err = stream_error(c)
    assert err.kind == "bad_response" and not err.retryable
    assert f"redirected the request (HTTP {status}) to another origin ({other_server.root_url})" in str(err)
    with pytest.raises(ProviderError, match="to another origin"):
        c.complete(HI)
    assert other_server.requests == []


def test_a_redirect_to_another_scheme_or_host_is_refused_too(fake_server: FakeServer, make_route: MakeRoute) -> None:
    for target in (f"https://127.0.0.1:{fake_server.port}/v1/chat/completions",
                   f"http://localhost:{fake_server.port}/v1/chat/completions", "http://[::1:bad/"):
        fake_server.enqueue(redirect(target, 307))
        with pytest.raises(ProviderError, match="to another origin"):
            client(fake_server, make_route).complete(HI)


def test_a_relative_redirect_is_followed_with_the_body(fake_server: FakeServer, make_route: MakeRoute) -> None:
    fake_server.enqueue(redirect("/v2/chat/completions", 307), reply("moved"))
    assert client(fake_server, make_route).complete(HI).text == "moved"
    first, second = fake_server.chat_requests
    assert second.path == "/v2/chat/completions" and second.json == first.json
    assert second.headers["authorization"] == first.headers["authorization"]


def test_the_async_client_refuses_a_foreign_redirect(fake_server: FakeServer, other_server: FakeServer,
                                                     make_route: MakeRoute) -> None:
    fake_server.enqueue(redirect(other_server.base_url + "/chat/completions", 308))

    async def go() -> None:
        async with AsyncChatClient(make_route("openai", fake_server.base_url)) as c:
            await c.complete(HI)

    with pytest.raises(ProviderError, match="to another origin"):
        asyncio.run(go())
    assert other_server.requests == []


# -- 6. bounds --------------------------------------------------------------------------------------------


def test_an_endless_stream_stops_at_the_answer_bound_with_what_arrived(
        fake_server: FakeServer, make_route: MakeRoute, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIME_MAX_ANSWER_SIZE", "64K")
    fake_server.enqueue(endless_stream("ab"))
    err = stream_error(client(fake_server, make_route))
    assert err.kind == "response_too_large" and not err.retryable
    assert "stopped reading the response: the answer exceeds 64 KiB (raise LIME_MAX_ANSWER_SIZE" in str(err)
    assert err.partial is not None and err.partial.text.startswith("abab") and 60_000 < len(err.partial.text) <= 65536


def test_endless_tool_calls_count_towards_the_answer(fake_server: FakeServer, make_route: MakeRoute,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIME_MAX_ANSWER_SIZE", "16K")
    calls = [{"choices": [{"delta": {"tool_calls": [{"index": i, "id": f"c{i}", "function": {"name": "f"}}]}}]}
             for i in range(2000)]
    fake_server.enqueue(SSE(calls))
    assert stream_error(client(fake_server, make_route)).kind == "response_too_large"


def test_a_huge_line_stops_at_the_line_bound(fake_server: FakeServer, make_route: MakeRoute,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIME_MAX_SSE_LINE", "256K")
    fake_server.enqueue(huge_line(4 << 20))
    err = stream_error(client(fake_server, make_route))
    assert err.kind == "response_too_large" and "one line of the event stream exceeds 256 KiB" in str(err)


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_a_compressed_bomb_stops_at_the_body_bound(fake_server: FakeServer, make_route: MakeRoute,
                                                   monkeypatch: pytest.MonkeyPatch, encoding: str) -> None:
    monkeypatch.setenv("LIME_MAX_BODY_SIZE", "2M")
    fake_server.enqueue(gzip_bomb(32 << 20, encoding=encoding), gzip_bomb(32 << 20, encoding=encoding))
    with pytest.raises(ProviderError, match=r"the response body exceeds 2 MiB \(raise LIME_MAX_BODY_SIZE") as info:
        client(fake_server, make_route).complete(HI)
    assert info.value.kind == "response_too_large"

    async def go() -> None:
        async with AsyncChatClient(make_route("openai", fake_server.base_url)) as c:
            await c.complete(HI)

    with pytest.raises(ProviderError, match="the response body exceeds 2 MiB"):
        asyncio.run(go())


@pytest.mark.parametrize("encoding", ["gzip", "deflate", None])
def test_a_compressed_stream_is_read_as_an_uncompressed_one(fake_server: FakeServer, make_route: MakeRoute,
                                                            encoding: str | None) -> None:
    events = b"".join(b'data: {"choices":[{"delta":{"content":"%d "}}]}\n\n' % i for i in range(300))
    done = (b'data: {"choices":[{"delta":{},"finish_reason":"stop"}]}\n\n'
            b'data: {"choices":[],"usage":{"prompt_tokens":1,"completion_tokens":300,"total_tokens":301}}\n\n'
            b'data: [DONE]\n\n')
    body = Flood(done, head=events, total=len(events) + len(done), encoding=encoding)
    fake_server.enqueue(body, body)
    want = "".join(f"{i} " for i in range(300))
    with client(fake_server, make_route).stream(HI) as s:
        assert "".join(e.text for e in s if e.kind == "text") == want

    async def go() -> str:
        async with AsyncChatClient(make_route("openai", fake_server.base_url)) as c:
            return "".join([e.text async for e in c.stream(HI) if e.kind == "text"])

    assert asyncio.run(go()) == want


def test_a_bomb_as_an_error_body_still_gives_the_status(fake_server: FakeServer, make_route: MakeRoute,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIME_MAX_BODY_SIZE", "2M")
    bomb = gzip_bomb(32 << 20)
    bomb.status = 401
    fake_server.enqueue(bomb)
    with pytest.raises(ProviderError, match=r"authentication failed \(HTTP 401\)") as info:
        client(fake_server, make_route).complete(HI)
    assert info.value.kind == "auth"


# -- 7. error codes ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("code", "kind"), [("408", "timeout"), (408, "timeout"), ("429", "rate_limit"),
                                            (429, "rate_limit"), ("401", "auth"), (401, "auth"),
                                            ("rate_limit_exceeded", "rate_limit"), ("502", "server"),
                                            ("banana", "server"), (None, "server")])
def test_stream_error_codes_as_strings_or_ints(fake_server: FakeServer, make_route: MakeRoute,
                                               code: object, kind: str) -> None:
    fake_server.enqueue(SSE([{"choices": [{"delta": {"content": "x"}}]},
                             {"error": {"message": "upstream said no", "code": code}}], done=False))
    err = stream_error(client(fake_server, make_route))
    assert err.kind == kind and "(error in stream): upstream said no" in str(err)


def test_an_error_body_with_status_200_is_classified_by_its_code(fake_server: FakeServer,
                                                                 make_route: MakeRoute) -> None:
    fake_server.enqueue(json_response({"error": {"message": "Too many requests", "code": "429"}},
                                      headers={"llm_provider-retry-after": "120"}))
    with pytest.raises(ProviderError) as info:
        client(fake_server, make_route).complete(HI)
    assert info.value.kind == "rate_limit" and "rate limited (error in body): Too many requests" in str(info.value)
    assert info.value.retry_after == 120.0


@pytest.mark.parametrize(("code", "status"), [("408", 408), (" 429 ", 429), ("200", None), ("4290", None),
                                              ("٤٢٩", None), ("invalid_api_key", 401), (None, None)])
def test_status_from_code(code: str | None, status: int | None) -> None:
    assert status_from_code(code) == status


# -- 8. wait hints -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("headers", "status", "seconds"), [
    ({"retry-after": "7"}, 503, 7.0),
    ({"retry-after-ms": "1500"}, 429, 1.5),
    ({"llm_provider-retry-after": "60"}, 429, 60.0),
    ({"llm_provider-retry-after-ms": "250"}, 429, 0.25),
    ({"x-ratelimit-reset-requests": "1s", "x-ratelimit-remaining-requests": "0"}, 429, 1.0),
    ({"x-ratelimit-reset-requests": "6m0s", "x-ratelimit-remaining-requests": "0",
      "x-ratelimit-reset-tokens": "20ms", "x-ratelimit-remaining-tokens": "100"}, 429, 360.0),
    ({"x-ratelimit-reset-requests": "6m0s", "x-ratelimit-reset-tokens": "20ms"}, 429, 0.02),
    ({"x-ratelimit-reset-tokens": "1h2m3.5s", "x-ratelimit-remaining-tokens": "0"}, 429, 3723.5),
    ({"llm_provider-x-ratelimit-reset-requests": "2s", "llm_provider-x-ratelimit-remaining-requests": "0"}, 429, 2.0),
    ({"x-ratelimit-reset-requests": "6m0s", "x-ratelimit-remaining-requests": "0"}, 500, None),
    ({"retry-after": "nan"}, 429, None),
    ({"retry-after": "inf"}, 429, None),
    ({"retry-after": "-5"}, 429, None),
    ({"x-ratelimit-reset-tokens": "soon"}, 429, None),
])
def test_wait_hints(headers: dict[str, str], status: int, seconds: float | None) -> None:
    assert retry_hint(headers, status) == pytest.approx(seconds) if seconds is not None else retry_hint(
        headers, status) is None


def test_a_reset_hint_within_the_cap_is_waited_for(fake_server: FakeServer, make_route: MakeRoute,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIME_RETRY_BASE_DELAY", "5")
    from support.fakeserver import error

    fake_server.enqueue(error(429, {"error": {"message": "slow down"}},
                              headers={"x-ratelimit-reset-tokens": "30ms", "x-ratelimit-remaining-tokens": "0"}),
                        reply("ok"))
    assert client(fake_server, make_route).complete(HI).text == "ok"
    first, second = fake_server.chat_requests
    assert 0.03 <= second.time - first.time < 4  # the hint, not the 5 s backoff step


@pytest.mark.parametrize("piece", [b": keep-alive\n\n", b'data: {"choices": [{"delta": {"content": ""}}]}\n\n',
                                   b'data: {"choices": [{"delta": {}, "finish_reason": "stop"}]}\n\n'])
def test_an_endless_stream_that_says_nothing_is_stopped_too(fake_server: FakeServer, make_route: MakeRoute,
                                                            monkeypatch: pytest.MonkeyPatch, piece: bytes) -> None:
    """No answer grows and no read times out, so only a bound on the bytes since the last event ends it."""
    monkeypatch.setenv("LIME_MAX_BODY_SIZE", "1M")
    fake_server.enqueue(Flood(piece * (65536 // len(piece)),
                              head=b'data: {"choices": [{"delta": {"content": "Hi"}}]}\n\n'))
    err = stream_error(client(fake_server, make_route))
    assert err.kind == "response_too_large"
    assert "what arrived without any answer exceeds 1 MiB (raise LIME_MAX_BODY_SIZE" in str(err)
    assert err.partial is not None and err.partial.text == "Hi"


def test_a_redirect_loop_is_one_request_not_a_retried_one(fake_server: FakeServer, make_route: MakeRoute) -> None:
    fake_server.default = redirect("/v1/chat/completions", 307)
    with pytest.raises(ProviderError, match="the server redirects the request in a loop") as info:
        client(fake_server, make_route).complete(HI)
    assert info.value.kind == "bad_response" and len(fake_server.chat_requests) <= 21  # httpx's 20 redirects


def test_discovery_reads_deep_json_as_not_json(fake_server: FakeServer) -> None:
    from lime.providers.openai_compat.discovery import DiscoveryError, discover, survey

    fake_server.route("GET", "/v1/models", raw_json(DEEP))
    fake_server.route("GET", "/props", raw_json(DEEP))
    assert discover(fake_server.base_url, None) is None
    with pytest.raises(DiscoveryError, match="something that is not JSON"):
        survey(fake_server.base_url)


@pytest.mark.parametrize("raw", [b'"line one\\nline two"', b'["line one\\n\\nline two"]', b'{"error": ["x\\ny"]}'])
def test_an_error_body_that_is_a_json_string_or_list_is_one_line(fake_server: FakeServer, make_route: MakeRoute,
                                                                 raw: bytes) -> None:
    fake_server.enqueue(raw_json(raw.decode(), status=400))
    with pytest.raises(ProviderError) as info:
        client(fake_server, make_route).complete(HI)
    message = str(info.value)
    assert "\n" not in message and "request rejected (HTTP 400): " in message
    assert "line one line two" in message or raw != b'"line one\\nline two"'
