"""Errors a user can act on: classification, overflow wording per server, retries, timeouts, secrets."""

from __future__ import annotations

import socket
import time

import pytest

from lime.errors import LimeError
from lime.providers.openai_compat.client import ChatClient
from lime.providers.openai_compat.errors import (
    ContextOverflowError,
    ProviderError,
    classify,
    parse_error_body,
)
from lime.providers.openai_compat.types import RequestOptions
from support.fakeserver import FakeServer, Hang, Reset, error, openai_error, overflow, reply, text_stream

from .conftest import KEY, MakeRoute, track

HI = [{"role": "user", "content": "hello"}]


def client(fake_server: FakeServer, make_route: MakeRoute, service: str = "groq", **kw: object) -> ChatClient:
    return track(ChatClient(make_route(service, fake_server.base_url), **kw))  # type: ignore[arg-type]


def fail(c: ChatClient, stream: bool = False) -> ProviderError:
    with pytest.raises(ProviderError) as info:
        if stream:
            with c.stream(HI, RequestOptions()) as s:
                list(s)
        else:
            c.complete(HI)
    return info.value


@pytest.mark.parametrize("server", ["openai", "groq", "openrouter", "xai", "mistral", "llamacpp", "lmstudio",
                                    "vllm", "cerebras", "together", "cohere"])
def test_context_overflow_wording_of_each_server(fake_server: FakeServer, make_route: MakeRoute,
                                                 server: str) -> None:
    fake_server.enqueue(overflow(server, n_prompt=9000, window=8192))
    err = fail(client(fake_server, make_route), stream=True)
    assert isinstance(err, ContextOverflowError) and err.kind == "context_overflow" and not err.retryable
    assert "groq (model wire-model)" in str(err) and "context window" in str(err)
    assert len(fake_server.chat_requests) == 1
    if server in ("openai", "xai", "mistral", "llamacpp", "lmstudio"):
        assert (err.n_prompt, err.n_ctx) == (9000, 8192)


@pytest.mark.parametrize("status", [400, 413])
def test_400_or_413_with_no_body_is_an_overflow(fake_server: FakeServer, make_route: MakeRoute, status: int) -> None:
    fake_server.enqueue(error(status))
    err = fail(client(fake_server, make_route))
    assert isinstance(err, ContextOverflowError) and f"HTTP {status} with no body" in str(err)


def test_overflow_detected_by_a_real_size_check(fake_server: FakeServer, make_route: MakeRoute) -> None:
    fake_server.use_profile("llamacpp")
    assert fake_server.profile is not None
    fake_server.profile = type(fake_server.profile)(**{**fake_server.profile.__dict__, "context_window": 100})
    c = client(fake_server, make_route, "local-llama")
    fake_server.enqueue(reply("short is fine"), reply("unused"))
    assert c.complete(HI).text == "short is fine"
    with pytest.raises(ContextOverflowError) as info:
        c.complete([{"role": "user", "content": "word " * 500}])
    assert info.value.n_ctx == 100 and info.value.n_prompt and info.value.n_prompt > 100


def test_groq_tokens_per_minute_413_is_not_an_overflow(fake_server: FakeServer, make_route: MakeRoute) -> None:
    fake_server.enqueue(error(413, {"error": {
        "message": "Request too large for model `llama-3.3-70b-versatile` in organization `org_x` service tier "
                   "`on_demand` on tokens per minute (TPM): Limit 6000, Requested 14810, please reduce your "
                   "message size and try again.", "type": "tokens", "code": "rate_limit_exceeded"}}))
    err = fail(client(fake_server, make_route))
    assert err.kind == "too_large" and not isinstance(err, ContextOverflowError) and not err.retryable


def test_auth_error_never_shows_the_key(fake_server: FakeServer, make_route: MakeRoute) -> None:
    fake_server.enqueue(openai_error(401, f"Incorrect API key provided: {KEY}. You can find your API key at "
                                     "https://platform.openai.com/account/api-keys.", code="invalid_api_key"))
    err = fail(client(fake_server, make_route))
    assert err.kind == "auth" and err.status == 401 and not err.retryable
    text = str(err)
    assert KEY not in text and KEY[:12] not in text and KEY[-12:] not in text
    assert "lime login --provider openai-compat --service groq --with-api-key" in text
    assert len(fake_server.chat_requests) == 1


def test_partially_masked_key_echo_is_masked_too() -> None:
    raw = b'{"error": {"message": "Incorrect API key provided: sk-test-4f9c****************9d2c."}}'
    err = classify(401, raw, {}, service="openai", model="m", secrets=(KEY,))
    assert "4f9c" not in str(err)


@pytest.mark.parametrize("status,kind", [(403, "permission"), (404, "not_found"), (402, "permission"),
                                         (422, "bad_request"), (418, "bad_request")])
def test_status_classification(fake_server: FakeServer, make_route: MakeRoute, status: int, kind: str) -> None:
    fake_server.enqueue(openai_error(status, "The model `wire-model` does not exist or you do not have access to it."))
    err = fail(client(fake_server, make_route))
    assert err.kind == kind and err.status == status and not err.retryable
    assert "does not exist" in str(err) and len(fake_server.chat_requests) == 1


def test_429_honours_retry_after(fake_server: FakeServer, make_route: MakeRoute) -> None:
    fake_server.enqueue(openai_error(429, "Rate limit reached for requests", type="requests",
                                     code="rate_limit_exceeded", retry_after="1"), text_stream("after the wait"))
    c = client(fake_server, make_route)
    t0 = time.monotonic()
    with c.stream(HI, RequestOptions()) as s:
        list(s)
    waited = fake_server.chat_requests[1].time - fake_server.chat_requests[0].time
    assert s.completion.text == "after the wait" and 1.0 <= waited < 3.0 and time.monotonic() - t0 < 4


def test_retry_after_longer_than_we_wait_gives_up_at_once(fake_server: FakeServer, make_route: MakeRoute) -> None:
    fake_server.enqueue(error(429, {"error": {"message": "Too many requests"}}, retry_after="3600"))
    err = fail(client(fake_server, make_route))
    assert err.kind == "rate_limit" and "3600s" in str(err) and len(fake_server.chat_requests) == 1


def test_quota_exhausted_429_is_not_retried(fake_server: FakeServer, make_route: MakeRoute) -> None:
    fake_server.enqueue(openai_error(429, "You exceeded your current quota, please check your plan and billing "
                                     "details.", code="insufficient_quota"))
    err = fail(client(fake_server, make_route))
    assert err.kind == "rate_limit" and not err.retryable and len(fake_server.chat_requests) == 1


def test_500_then_success(fake_server: FakeServer, make_route: MakeRoute) -> None:
    fake_server.enqueue(error(500, {"error": {"message": "internal"}}), error(503, "upstream unavailable"),
                        reply("third time lucky"))
    assert client(fake_server, make_route).complete(HI).text == "third time lucky"
    assert len(fake_server.chat_requests) == 3


def test_retries_stop_at_the_budget(fake_server: FakeServer, make_route: MakeRoute,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIME_MAX_RETRIES", "2")
    fake_server.default = error(502, {"error": {"message": "bad gateway"}})
    err = fail(client(fake_server, make_route))
    assert err.kind == "server" and "gave up after 2 retries" in str(err)
    assert len(fake_server.chat_requests) == 3


def test_backoff_grows_exponentially_with_jitter(fake_server: FakeServer, make_route: MakeRoute,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIME_RETRY_BASE_DELAY", "0.1")
    c = client(fake_server, make_route)
    for attempt, step in enumerate((0.1, 0.2, 0.4, 0.8)):
        delays = [c.backoff(attempt, None) for _ in range(50)]
        assert all(d is not None and step / 2 <= d <= step for d in delays)
        assert len({round(d or 0, 6) for d in delays}) > 1  # jitter


def test_non_json_error_body(fake_server: FakeServer, make_route: MakeRoute, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIME_MAX_RETRIES", "0")
    fake_server.enqueue(error(502, "upstream connect error or disconnect/reset before headers. reset reason: "
                                   "connection termination"))
    err = fail(client(fake_server, make_route))
    assert err.kind == "server" and err.status == 502 and "upstream connect error" in str(err)


def test_html_error_page_from_a_proxy(fake_server: FakeServer, make_route: MakeRoute,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIME_MAX_RETRIES", "0")
    page = ("<!DOCTYPE html><html><head><title>504 Gateway Time-out</title><style>body{color:red}</style></head>"
            "<body><center><h1>504 Gateway Time-out</h1></center><hr><center>nginx</center></body></html>")
    fake_server.enqueue(error(504, page))
    err = fail(client(fake_server, make_route), stream=True)
    assert err.kind == "server" and "504 Gateway Time-out" in str(err)
    assert "<" not in str(err) and "color:red" not in str(err)


def test_slow_server_hits_the_read_timeout(fake_server: FakeServer, make_route: MakeRoute) -> None:
    fake_server.enqueue(Hang(10), Hang(10))
    c = client(fake_server, make_route, read_timeout=0.3, max_retries=1)
    t0 = time.monotonic()
    err = fail(c, stream=True)
    assert err.kind == "timeout" and err.retryable and "timed out" in str(err)
    assert time.monotonic() - t0 < 3 and len(fake_server.chat_requests) == 2


def test_read_timeout_mid_stream_keeps_partial(fake_server: FakeServer, make_route: MakeRoute) -> None:
    from support.fakeserver import SSE, Delay

    fake_server.enqueue(SSE([{"choices": [{"delta": {"content": "slow "}}]}, Delay(10),
                             {"choices": [{"delta": {"content": "never"}}]}]))
    c = client(fake_server, make_route, read_timeout=0.3)
    err = fail(c, stream=True)
    assert err.kind == "timeout" and err.partial is not None and err.partial.text == "slow "
    assert len(fake_server.chat_requests) == 1


def test_connection_refused_on_this_machine_fails_at_once(make_route: MakeRoute) -> None:
    """An Ollama or vLLM that is not running: say so now instead of retrying for half a minute."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    c = track(ChatClient(make_route("ollama", f"http://127.0.0.1:{port}/v1"), max_retries=2))
    t0 = time.monotonic()
    err = fail(c)
    assert err.kind == "connection" and not err.retryable and time.monotonic() - t0 < 5
    assert f"nothing is listening at http://127.0.0.1:{port}/v1" in str(err) and "retries" not in str(err)


def test_connection_refused_elsewhere_is_retried(make_route: MakeRoute) -> None:
    """A remote service that refuses a connection may be restarting: the retry budget applies."""
    import httpx

    from lime.providers.openai_compat.errors import transport_error

    refused = httpx.ConnectError("[Errno 111] Connection refused")
    err = transport_error(refused, service="groq", model="m", base_url="https://api.groq.com/openai/v1", phase="send")
    assert err.kind == "connection" and err.retryable and "cannot reach https://api.groq.com/openai/v1" in str(err)


def test_reset_before_answer_is_retried(fake_server: FakeServer, make_route: MakeRoute) -> None:
    fake_server.enqueue(Reset(), reply("recovered"))
    assert client(fake_server, make_route).complete(HI).text == "recovered"


def test_200_with_a_body_that_is_not_json(fake_server: FakeServer, make_route: MakeRoute,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from support.fakeserver import JSONResponse

    monkeypatch.setenv("LIME_MAX_RETRIES", "0")
    fake_server.enqueue(lambda req: JSONResponse("plain string body"))
    err = fail(client(fake_server, make_route))
    assert err.kind == "bad_response" and "malformed response: the response is a string, expected an object" in str(err)


def test_route_without_endpoint_is_a_lime_error(make_route: MakeRoute) -> None:
    with pytest.raises(LimeError) as info:
        ChatClient(make_route("local", None))
    assert "no endpoint" in str(info.value)


@pytest.mark.parametrize("raw,expected", [
    (b'{"error": {"message": "a", "code": "c"}}', "a"),
    (b'{"error": "plain string error"}', "plain string error"),
    (b'{"message": "top-level message"}', "top-level message"),
    (b'{"detail": "FastAPI detail"}', "FastAPI detail"),
    (b'{"detail": [{"loc": ["body", "top_k"], "msg": "Extra inputs are not permitted", "type": "extra_forbidden"}]}',
     "Extra inputs are not permitted: top_k"),
    (b'[{"error": {"code": 400, "message": "gemini style", "status": "INVALID_ARGUMENT"}}]', "gemini style"),
    (b'{"object": "error", "message": {"detail": [{"loc": ["body", "stream_options"], "msg": "Extra inputs are not '
     b'permitted"}]}}', "Extra inputs are not permitted: stream_options"),
    (b"Service Unavailable", "Service Unavailable"),
    (b"", ""),
])
def test_error_body_shapes(raw: bytes, expected: str) -> None:
    assert parse_error_body(raw).message == expected
