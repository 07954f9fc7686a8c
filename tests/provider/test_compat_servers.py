"""What a LiteLLM proxy and llama-cpp-python's server answer, reproduced byte for byte by the fake
server, and what lime makes of it."""

from __future__ import annotations

import time

import pytest

from lime.catalog.routing import resolve_route
from lime.providers.openai_compat import ChatClient, ProviderError
from lime.providers.openai_compat.types import RequestOptions, ToolSpec
from support.fakeserver import ErrorResponse, reply

TOOLS = [ToolSpec("read_file", "read a file", {"type": "object", "properties": {"path": {"type": "string"}}})]
# llama-cpp-python's answer to a request its pydantic model rejects: HTTP 500, the error list as text.
LLAMA_CPP_PYTHON_500 = {"error": {"message": "[{'type': 'literal_error', 'loc': ('body', 'response_format', 'type'), "
                                             "'msg': \"Input should be 'text' or 'json_object'\", 'input': 'json_schema', "
                                             "'ctx': {'expected': \"'text' or 'json_object'\"}}]",
                                  "type": "internal_server_error", "param": None, "code": None}}


@pytest.fixture
def client(fake_server, lime_home, monkeypatch):  # type: ignore[no-untyped-def]
    import subprocess
    import sys

    env = {"LIME_HOME": str(lime_home)}
    monkeypatch.setenv("LIME_MAX_RETRIES", "3")
    monkeypatch.setenv("LIME_RETRY_BASE", "0.01")
    subprocess.run([sys.executable, "-m", "lime", "login", "--provider", "openai-compat", "--service", "lcp",
                    "--with-base-url", fake_server.base_url], check=True, capture_output=True,
                   env={**__import__("os").environ, **env})
    models = lime_home / "models.json"
    models.write_text('{"models": [{"slug": "lcp-model", "provider": "openai-compat", "service": "lcp", '
                      '"context_window": 4096, "supports_tools": true, "supports_response_format": true}]}')
    monkeypatch.setenv("LIME_MODELS_FILE", str(models))
    c = ChatClient(resolve_route("lcp-model"))
    yield c
    c.close()


def empty_200() -> ErrorResponse:
    return ErrorResponse(200, None, content_type="text/event-stream")


def test_an_empty_200_to_a_streamed_tool_choice_drops_it_and_remembers(client, fake_server) -> None:  # type: ignore[no-untyped-def]
    fake_server.enqueue(empty_200(), reply("ok"))
    stream = client.stream([{"role": "user", "content": "hi"}], RequestOptions(tools=TOOLS, tool_choice="auto"))
    assert "".join(e.text for e in stream if e.kind == "text") == "ok"
    first, second = fake_server.chat_requests
    assert first.json["tool_choice"] == "auto" and "tool_choice" not in second.json and second.json["tools"]
    fake_server.enqueue(reply("again"))
    list(client.stream([{"role": "user", "content": "hi"}], RequestOptions(tools=TOOLS, tool_choice="auto")))
    assert "tool_choice" not in fake_server.chat_requests[-1].json  # remembered


def test_an_empty_200_is_explained_not_retried(client, fake_server) -> None:  # type: ignore[no-untyped-def]
    fake_server.enqueue(empty_200(), empty_200(), empty_200())
    started = time.monotonic()
    with pytest.raises(ProviderError) as info:
        list(client.stream([{"role": "user", "content": "hi"}]))
    assert time.monotonic() - started < 2 and len(fake_server.chat_requests) == 1
    assert "empty body" in str(info.value) and "context window" in str(info.value)


def test_a_500_naming_a_request_field_is_healed_like_a_422(client, fake_server) -> None:  # type: ignore[no-untyped-def]
    fake_server.enqueue(ErrorResponse(500, LLAMA_CPP_PYTHON_500), reply('{"n": 1}'))
    rf = {"type": "json_schema", "json_schema": {"name": "a", "schema": {"type": "object"}}}
    answer = client.complete([{"role": "user", "content": "hi"}], RequestOptions(response_format=rf))
    assert answer.text == '{"n": 1}'
    first, second = fake_server.chat_requests
    # JSON mode instead, with the schema in the prompt (the answer is checked against it after)
    assert first.json["response_format"] == rf and second.json["response_format"] == {"type": "json_object"}
    assert second.json["messages"][0]["role"] == "system" and "JSON Schema" in second.json["messages"][0]["content"]
    fake_server.enqueue(ErrorResponse(500, {"error": {"message": "[{'type': 'literal_error', 'loc': ('body', "
                                                      "'response_format', 'type'), 'msg': \"Input should be 'text'\"}]",
                                                      "type": "internal_server_error"}}), reply("{}"))
    client.complete([{"role": "user", "content": "hi"}], RequestOptions(response_format=rf))
    assert "response_format" not in fake_server.chat_requests[-1].json  # JSON mode refused too: none at all


def test_litellm_no_connected_db_is_explained_as_a_key_problem(client, fake_server) -> None:  # type: ignore[no-untyped-def]
    fake_server.enqueue(ErrorResponse(400, {"error": {"message": "Authentication Error, No connected db.",
                                                      "type": "auth_error", "param": "None", "code": "400"}}))
    with pytest.raises(ProviderError) as info:
        client.complete([{"role": "user", "content": "hi"}])
    assert info.value.kind == "auth" and "master key" in str(info.value)
    assert "context-window" not in str(info.value)


def test_a_refused_verbosity_is_said_once_without_verbose(fake_server, lime_home, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from lime.providers.openai_compat import client as client_mod
    from support.fakeserver import openai_error

    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-0123456789")
    monkeypatch.setenv("OPENAI_BASE_URL", fake_server.base_url)
    client_mod._told.clear()
    said: list[str] = []
    c = ChatClient(resolve_route("gpt-5-mini"), notice=said.append)
    refusal = openai_error(400, "Unsupported parameter: 'verbosity' is not supported with this model.",
                           param="verbosity", code="unsupported_parameter")
    fake_server.enqueue(refusal, reply("a"), reply("b"))
    c.complete([{"role": "user", "content": "hi"}], RequestOptions(verbosity="low"))
    c.complete([{"role": "user", "content": "hi"}], RequestOptions(verbosity="low"))
    c.close()
    assert len([s for s in said if "verbosity" in s]) == 1


def test_a_server_that_streams_no_usage_is_calibrated_by_one_probe(fake_server, lime_home, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """llama-cpp-python sends no usage chunk even when asked (include_usage): a non-streamed
    probe of the same prompt, once, teaches the estimate, and status says so."""
    import subprocess
    import sys

    from lime.tokens import learned
    from support.fakeserver import Reply

    monkeypatch.setattr(learned, "_cache", {})
    subprocess.run([sys.executable, "-m", "lime", "login", "--provider", "openai-compat", "--service", "lcpp",
                    "--with-base-url", fake_server.base_url], check=True, capture_output=True,
                   env={**__import__("os").environ, "LIME_HOME": str(lime_home)})
    models = lime_home / "models.json"
    models.write_text('{"models": [{"slug": "lcpp-model", "provider": "openai-compat", "service": "lcpp", '
                      '"context_window": 4096, "supports_include_usage": true}]}')
    monkeypatch.setenv("LIME_MODELS_FILE", str(models))

    def answer(req):  # type: ignore[no-untyped-def]
        if req.stream:
            return Reply("streamed", usage=None)  # llama-cpp-python: no usage chunk, include_usage or not
        return Reply("x", usage={"prompt_tokens": 777, "completion_tokens": 1, "total_tokens": 778})

    fake_server.default = answer
    c = ChatClient(resolve_route("lcpp-model"))
    msgs = [{"role": "user", "content": "hello there " * 50}]
    before = learned.for_model("lcpp", "lcpp-model").prompt(msgs)
    assert "".join(e.text for e in c.stream(msgs) if e.kind == "text") == "streamed"
    list(c.stream(msgs))
    c.close()
    probes = [r for r in fake_server.chat_requests if not r.stream]
    assert len(probes) == 1 and probes[0].json["max_tokens"] == 1 and "stream_options" not in probes[0].json
    cal = learned.for_model("lcpp", "lcpp-model")
    assert cal.n == 1 and abs(cal.prompt(msgs) - 777) < abs(before - 777)
    assert "calibrated by non-streamed probes" in cal.describe()
    monkeypatch.setattr(learned, "_cache", {})
    assert "calibrated by non-streamed probes" in learned.for_model("lcpp", "lcpp-model").describe()  # stored
