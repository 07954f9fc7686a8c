"""The fake server itself: other test suites script conversations with it, so its wire format,
keep-alive and profiles must be right."""

from __future__ import annotations

import json
import socket
import time

import httpx
import pytest

from support.fakeserver import (
    PROFILES,
    FakeServer,
    Hang,
    error,
    overflow,
    reply,
    text_stream,
    tool_call_stream,
)


def post(server: FakeServer, body: dict[str, object], **kw: object) -> httpx.Response:
    return httpx.post(server.base_url + "/chat/completions", json=body, **kw)  # type: ignore[arg-type]


def test_non_stream_reply_is_a_chat_completion(fake_server: FakeServer) -> None:
    fake_server.enqueue(reply("Hi!", tool_calls=[("f", {"a": 1})]))
    r = post(fake_server, {"model": "m1", "messages": [{"role": "user", "content": "x"}]},
             headers={"Authorization": "Bearer k"})
    data = r.json()
    assert r.status_code == 200 and data["object"] == "chat.completion" and data["model"] == "m1"
    msg = data["choices"][0]["message"]
    assert msg["content"] == "Hi!" and msg["tool_calls"][0]["function"] == {"name": "f", "arguments": '{"a": 1}'}
    assert data["choices"][0]["finish_reason"] == "tool_calls" and data["usage"]["total_tokens"] > 0
    rec = fake_server.requests[-1]
    assert rec.method == "POST" and rec.path == "/v1/chat/completions" and rec.headers["authorization"] == "Bearer k"
    assert rec.json["messages"] == [{"role": "user", "content": "x"}] and not rec.stream


def test_stream_reply_wire_format(fake_server: FakeServer) -> None:
    fake_server.enqueue(text_stream("a b c", chunks=3, usage={"prompt_tokens": 1, "completion_tokens": 3,
                                                              "total_tokens": 4}))
    with httpx.stream("POST", fake_server.base_url + "/chat/completions",
                      json={"model": "m", "messages": [], "stream": True}) as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        assert r.headers["transfer-encoding"] == "chunked"
        lines = [line for line in r.iter_lines() if line]
    assert lines[-1] == "data: [DONE]"
    chunks = [json.loads(line[6:]) for line in lines[:-1]]
    assert "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"]) == "a b c"
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["total_tokens"] == 4


def test_tool_call_stream_sends_id_and_name_only_first(fake_server: FakeServer) -> None:
    fake_server.enqueue(tool_call_stream([("search", {"query": "lime tree"})]))
    with httpx.stream("POST", fake_server.base_url + "/chat/completions",
                      json={"messages": [], "stream": True}) as r:
        frags = [json.loads(line[6:])["choices"][0]["delta"]["tool_calls"][0] for line in r.iter_lines()
                 if line.startswith("data: {") and '"tool_calls": [' in line]
    assert frags[0]["id"] == "call_0" and frags[0]["function"]["name"] == "search"
    assert all("id" not in f and "name" not in f["function"] for f in frags[1:]) and len(frags) >= 3
    assert "".join(f["function"]["arguments"] for f in frags) == '{"query": "lime tree"}'


def test_keep_alive_and_single_send_latency(fake_server: FakeServer) -> None:
    fake_server.default = reply("ok")
    with httpx.Client() as c:
        t0 = time.perf_counter()
        for _ in range(50):
            assert c.post(fake_server.base_url + "/chat/completions", json={"messages": []}).status_code == 200
        per_request = (time.perf_counter() - t0) / 50
    assert fake_server.connections == 1
    assert per_request < 0.02  # no 40 ms delayed-ACK stall per request


def test_usage_only_when_asked_unless_the_profile_sends_it(fake_server: FakeServer) -> None:
    def last_chunk(body: dict[str, object]) -> dict[str, object]:
        fake_server.enqueue(reply("x"))
        with httpx.stream("POST", fake_server.base_url + "/chat/completions", json=body) as r:
            data = [line for line in r.iter_lines() if line.startswith("data: {")]
        out: dict[str, object] = json.loads(data[-1][6:])
        return out

    base = {"messages": [], "stream": True}
    assert "usage" not in last_chunk(base)
    assert "usage" in last_chunk({**base, "stream_options": {"include_usage": True}})
    fake_server.use_profile("mistral")
    assert "usage" in last_chunk(base)


def test_profiles_reject_with_their_own_wording(fake_server: FakeServer) -> None:
    fake_server.use_profile("mistral")
    r = post(fake_server, {"messages": [], "stream_options": {"include_usage": True}})
    assert r.status_code == 422
    assert r.json()["message"]["detail"][0]["loc"] == ["body", "stream_options"]
    fake_server.use_profile("azure")
    r = post(fake_server, {"messages": [], "stream_options": {}})
    assert r.status_code == 400 and r.json()["error"]["message"] == "Unrecognized request argument supplied: stream_options"
    fake_server.use_profile("cohere")
    r = post(fake_server, {"messages": [], "n": 1})
    assert r.status_code == 422 and r.json()["message"] == "unprocessable entity: n is not supported"
    assert fake_server.queue == type(fake_server.queue)()  # rejections consume no script entry


def test_every_overflow_wording_is_a_400(fake_server: FakeServer) -> None:
    for name in PROFILES:
        resp = overflow(name, 5000, 4096)
        if name != "ollama":
            assert resp.status == 400, name  # type: ignore[union-attr]
    assert "exceeds the available context size" in json.dumps(overflow("llamacpp").body)  # type: ignore[union-attr]


def test_errors_hang_route_models_and_key(fake_server: FakeServer) -> None:
    fake_server.enqueue(error(429, "slow down", retry_after=3), Hang(0.2))
    r = post(fake_server, {"messages": []})
    assert r.status_code == 429 and r.headers["retry-after"] == "3" and r.text == "slow down"
    with pytest.raises(httpx.RemoteProtocolError):
        post(fake_server, {"messages": []})
    fake_server.route("GET", "/props", {"n_ctx": 2048})
    assert httpx.get(fake_server.root_url + "/props").json() == {"n_ctx": 2048}
    assert httpx.get(fake_server.base_url + "/models").json()["data"][0]["id"] == "fake-model"
    fake_server.require_key = "sk-right"
    assert post(fake_server, {"messages": []}, headers={"Authorization": "Bearer sk-wrong"}).status_code == 401
    r = post(fake_server, {"messages": []}, headers={"Authorization": "Bearer sk-right"})
    assert r.status_code == 500 and "no response left" in r.text  # script exhausted: loud failure


def test_callable_script_and_close(fake_server: FakeServer) -> None:
    fake_server.enqueue(lambda req: reply(f"you said {req.messages[-1]['content']}"))
    r = post(fake_server, {"messages": [{"role": "user", "content": "ping"}]})
    assert r.json()["choices"][0]["message"]["content"] == "you said ping"
    port = fake_server.port
    fake_server.close()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
