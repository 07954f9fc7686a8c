"""lime's provider against the real llama.cpp server: chat, streaming, usage, overflow, cancel."""

from __future__ import annotations

import dataclasses
import http.client
import json
import time
from pathlib import Path

import pytest

from lime import tokens
from lime.catalog.routing import Route, resolve_route
from lime.local import manager
from lime.local.connect import activate
from lime.providers.openai_compat import ChatClient, ContextOverflowError
from lime.providers.openai_compat.discovery import discover
from lime.providers.openai_compat.types import RequestOptions, TextDelta

SYSTEM = {"role": "system", "content": "You are a helpful assistant."}
PROSE = (Path(__file__).parent / "data" / "prose.txt").read_text()


def _get(info: manager.ServerInfo, path: str) -> object:
    conn = http.client.HTTPConnection("127.0.0.1", info.port, timeout=10)
    conn.request("GET", path, headers={"Authorization": f"Bearer {info.api_key}"})
    body = json.loads(conn.getresponse().read())
    conn.close()
    return body


def _server_token_count(info: manager.ServerInfo, text: str) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", info.port, timeout=10)
    conn.request("POST", "/tokenize", json.dumps({"content": text}),
                 {"Authorization": f"Bearer {info.api_key}", "Content-Type": "application/json"})
    n = len(json.loads(conn.getresponse().read())["tokens"])
    conn.close()
    return n


@pytest.fixture
def route(server: manager.ServerInfo) -> Route:
    return activate(resolve_route("smollm2"))


def test_activate_fills_the_route_from_the_server(route: Route, server: manager.ServerInfo) -> None:
    assert route.base_url == server.base_url and route.api_key == server.api_key
    assert route.entry.context_window == 2048
    assert route.capabilities.include_usage is True
    assert route.capabilities.tools is False  # SmolLM2's own template has no tool support
    assert route.capabilities.reasoning_effort is False


def test_discovery_against_the_real_server(server: manager.ServerInfo) -> None:
    found = discover(server.base_url, server.api_key)
    assert found is not None and found.server == "llama.cpp"
    assert found.n_ctx == 2048 and found.n_ctx_train == 8192
    assert found.model_ids == ("smollm2",)
    assert found.supports_system_role is True and found.tools is False
    assert discover(server.base_url, "wrong-key") is None  # /props and /v1/models want the key


def test_second_activation_uses_the_cached_discovery(server: manager.ServerInfo,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    activate(resolve_route("smollm2"))
    import lime.providers.openai_compat.discovery as disc

    def no_network(*_a: object, **_k: object) -> None:
        raise AssertionError("discovery should come from the state file")

    monkeypatch.setattr(disc, "discover", no_network)
    again = activate(resolve_route("smollm2"))
    assert again.entry.context_window == 2048 and again.capabilities.include_usage


def test_plain_chat(route: Route) -> None:
    with ChatClient(route) as client:
        t0 = time.monotonic()
        c = client.complete([SYSTEM, {"role": "user", "content": "Say hello."}],
                            RequestOptions(max_tokens=24, stream=False, temperature=0))
        took = time.monotonic() - t0
    assert c.text.strip()
    assert c.finish_reason in ("stop", "length")
    assert c.usage is not None and not c.usage.estimated
    assert c.usage.completion_tokens <= 24 and c.usage.prompt_tokens > 10
    print(f"\n[measure] non-streamed reply of {c.usage.completion_tokens} tokens in {took:.2f}s")


def test_streamed_chat_with_server_usage(route: Route) -> None:
    with ChatClient(route) as client:
        stream = client.stream([SYSTEM, {"role": "user", "content": "Write a long story about a lighthouse."}],
                               RequestOptions(max_tokens=160, temperature=0))
        t0 = time.monotonic()
        first = None
        deltas = 0
        for ev in stream:
            if isinstance(ev, TextDelta):
                deltas += 1
                first = first or time.monotonic()
        end = time.monotonic()
        c = stream.completion
        assert stream.request_body["stream_options"] == {"include_usage": True}
    assert deltas > 10 and c.text
    assert c.usage is not None and not c.usage.estimated
    assert c.usage.completion_tokens == 160 or c.finish_reason == "stop"
    assert first is not None
    rate = (c.usage.completion_tokens - 1) / max(1e-6, end - first)
    print(f"\n[measure] streamed {c.usage.completion_tokens} tokens, first token after {first - t0:.2f}s, "
          f"{rate:.0f} tokens/s generation")


def test_usage_estimate_against_the_servers_count(route: Route, server: manager.ServerInfo) -> None:
    """Without include_usage lime estimates with OpenAI's o200k tokenizer; SmolLM2's 49k-token
    vocabulary splits English into more pieces, so the estimate runs low. Measured bound (prose):
    prompt estimate 0.75-1.05x the server's count, completion estimate 0.70-1.10x."""
    no_usage = dataclasses.replace(route, capabilities=dataclasses.replace(route.capabilities, include_usage=False))
    messages = [SYSTEM, {"role": "user", "content": "Summarise this text in two sentences:\n\n" + PROSE}]
    opts = RequestOptions(max_tokens=80, temperature=0)
    with ChatClient(no_usage) as client:
        est_stream = client.stream(messages, opts)
        for _ in est_stream:
            pass
        assert "stream_options" not in est_stream.request_body
        est = est_stream.completion
    with ChatClient(route) as client:
        real_stream = client.stream(messages, opts)
        for _ in real_stream:
            pass
        real = real_stream.completion
    assert est.usage is not None and est.usage.estimated
    assert real.usage is not None and not real.usage.estimated
    assert est.text.strip()
    p_ratio = est.usage.prompt_tokens / real.usage.prompt_tokens
    # the same prompt, but not always the same answer (a cached prompt changes the arithmetic
    # slightly): count the estimated run's own answer with the model's tokenizer
    real_completion = _server_token_count(server, est.text)
    c_ratio = est.usage.completion_tokens / real_completion
    print(f"\n[measure] prompt estimate {est.usage.prompt_tokens} vs server {real.usage.prompt_tokens} "
          f"({p_ratio:.3f}x); completion {est.usage.completion_tokens} vs {real_completion} ({c_ratio:.3f}x)")
    assert 0.75 <= p_ratio <= 1.05
    assert 0.70 <= c_ratio <= 1.10
    # text alone, against the model's own tokenizer
    t_ratio = tokens.count_text(PROSE) / _server_token_count(server, PROSE)
    print(f"[measure] prose text: o200k count / SmolLM2 count = {t_ratio:.3f}")
    assert 0.75 <= t_ratio <= 1.05


def test_real_overflow_is_classified(route: Route) -> None:
    huge = "word " * 3000
    with ChatClient(route) as client, pytest.raises(ContextOverflowError) as info:
        client.complete([{"role": "user", "content": huge}], RequestOptions(max_tokens=8, stream=False))
    err = info.value
    assert err.kind == "context_overflow" and err.status == 400 and not err.retryable
    assert err.n_ctx == 2048 and err.n_prompt is not None and err.n_prompt > 2048
    assert route.api_key is not None and route.api_key not in str(err)
    # streamed: the same 400 comes before any event
    with ChatClient(route) as client, pytest.raises(ContextOverflowError):
        for _ in client.stream([{"role": "user", "content": huge}], RequestOptions(max_tokens=8)):
            pass


def test_cancel_mid_stream_leaves_the_server_healthy(route: Route, server: manager.ServerInfo) -> None:
    with ChatClient(route) as client:
        stream = client.stream([SYSTEM, {"role": "user", "content": "Count from 1 to 1000, one per line."}],
                               RequestOptions(max_tokens=1500, temperature=0))
        got = 0
        for ev in stream:
            if isinstance(ev, TextDelta):
                got += 1
                if got == 5:
                    break
        t0 = time.monotonic()
        stream.close()
        closed_in = time.monotonic() - t0
        assert closed_in < 1.0
        # the slot stops generating soon after the client goes (1500 tokens would take ~10 s)
        deadline = time.monotonic() + 3
        busy = True
        while busy and time.monotonic() < deadline:
            slots = _get(server, "/slots")
            assert isinstance(slots, list)
            busy = any(s.get("is_processing") for s in slots)
            time.sleep(0.05)
        assert not busy, "the server kept generating for a client that left"
        c = client.complete([SYSTEM, {"role": "user", "content": "Say hello."}],
                            RequestOptions(max_tokens=8, stream=False))
    assert c.text.strip() and manager.healthy(server.port)
