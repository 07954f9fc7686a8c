"""The Python API (``lime.complete`` / ``lime.stream`` / clients, sync and async) end to end:
catalog → credential bucket → route → HTTP to the fake server."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

import lime
from lime.auth import store
from lime.catalog.entries import ModelEntry
from lime.catalog.store import add_user_entry
from lime.providers.openai_compat.client import AsyncChatClient
from lime.providers.openai_compat.errors import ContextOverflowError, ProviderError
from lime.providers.openai_compat.types import RequestOptions, TextDelta, ToolCallEvent
from support.fakeserver import SSE, Delay, FakeServer, overflow, reply, text_stream, tool_call_stream

from .conftest import KEY, MakeRoute

HI = [{"role": "user", "content": "hi"}]


@pytest.fixture
def fake_model(fake_server: FakeServer, lime_home: Path) -> str:
    store.put(store.bucket_name("fakesvc"), KEY, fake_server.base_url)
    add_user_entry(ModelEntry(slug="fake-m", provider="openai-compat", service="fakesvc", context_window=8192,
                              api_id="vendor/fake-1", supports_tools=True))
    return "fake-m"


def test_complete_and_stream(fake_server: FakeServer, fake_model: str) -> None:
    fake_server.enqueue(reply("Hello!"), text_stream("Streamed hello", chunks=3))
    answer = lime.complete("Say hello", model=fake_model, system="Be brief.", max_tokens=20)
    assert answer.text == "Hello!" and answer.usage is not None
    req = fake_server.last
    assert req.json["model"] == "vendor/fake-1" and req.json["max_tokens"] == 20
    assert req.json["messages"] == [{"role": "system", "content": "Be brief."},
                                    {"role": "user", "content": "Say hello"}]
    assert req.headers["authorization"] == f"Bearer {KEY}"
    texts = [e.text for e in lime.stream("again", model=fake_model) if isinstance(e, TextDelta)]
    assert "".join(texts) == "Streamed hello" and len(texts) == 3


def test_client_reuses_one_connection(fake_server: FakeServer, fake_model: str) -> None:
    fake_server.default = reply("ok")
    with lime.Client(fake_model) as c:
        for _ in range(5):
            assert c.complete("ping").text == "ok"
        assert [e.kind for e in c.stream("ping")][-2:] == ["finish", "usage"]
    assert fake_server.connections == 1 and len(fake_server.chat_requests) == 6


def test_tools_through_the_api(fake_server: FakeServer, fake_model: str) -> None:
    fake_server.enqueue(tool_call_stream([("lookup", {"q": "lime"})]))
    tool = {"name": "lookup", "description": "Look up a word.", "parameters": {"type": "object"}}
    events = list(lime.stream("find lime", model=fake_model, tools=[tool], tool_choice="auto"))
    calls = [e.call for e in events if isinstance(e, ToolCallEvent)]
    assert calls[0].name == "lookup" and calls[0].arguments == '{"q": "lime"}'
    assert fake_server.last.json["tools"][0]["function"]["name"] == "lookup"


def test_unknown_option_and_unknown_model(fake_model: str) -> None:
    with pytest.raises(TypeError):
        lime.complete("x", model=fake_model, max_tokenz=3)
    with pytest.raises(lime.errors.LimeError) as info:
        lime.complete("x", model="fake-mm")
    assert "unknown model" in str(info.value) and "fake-m" in str(info.value)


def test_errors_surface_as_provider_errors(fake_server: FakeServer, fake_model: str) -> None:
    fake_server.enqueue(overflow("vllm"))
    with pytest.raises(ContextOverflowError) as info:
        lime.complete("too long", model=fake_model)
    assert "fakesvc (model vendor/fake-1)" in str(info.value) and KEY not in str(info.value)


def test_async_api(fake_server: FakeServer, fake_model: str) -> None:
    fake_server.enqueue(reply("async answer"), text_stream("async stream", chunks=2))

    async def go() -> tuple[str, list[str]]:
        answer = await lime.acomplete("hi", model=fake_model)
        texts = [e.text async for e in lime.astream("hi", model=fake_model) if isinstance(e, TextDelta)]
        return answer.text, texts

    text, texts = asyncio.run(go())
    assert text == "async answer" and texts == ["async ", "stream"]


def test_async_client_retries_heals_and_keeps_partial(fake_server: FakeServer, make_route: MakeRoute) -> None:
    fake_server.use_profile("mistral")
    fake_server.enqueue(reply("healed"), reply("one two three", cut_after=3, force_stream=True))

    async def go() -> tuple[str, ProviderError]:
        async with AsyncChatClient(make_route("mistral", fake_server.base_url, supports_include_usage=True)) as c:
            async with c.stream(HI, RequestOptions()) as s:
                async for _ in s:
                    pass
            healed = s.completion.text
            with pytest.raises(ProviderError) as info:
                async for _ in c.stream(HI, RequestOptions()):
                    pass
            return healed, info.value

    healed, err = asyncio.run(go())
    assert healed == "healed" and [("stream_options" in r.json) for r in fake_server.chat_requests] == [
        True, False, False]
    assert err.kind == "connection" and err.partial is not None and err.partial.text == "one two"


def test_async_cancel_closes_promptly(fake_server: FakeServer, make_route: MakeRoute) -> None:
    fake_server.enqueue(SSE([{"choices": [{"delta": {"content": "first"}}]}, Delay(30), {"choices": []}]))

    async def go() -> float:
        async with AsyncChatClient(make_route("groq", fake_server.base_url)) as c:
            s = c.stream(HI, RequestOptions())

            async def consume() -> None:
                async for _ in s:
                    pass

            task = asyncio.create_task(consume())
            await asyncio.sleep(0.3)
            loop = asyncio.get_running_loop()
            t0 = loop.time()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            await s.close()
            assert s.completion.text == "first"
            return loop.time() - t0

    assert asyncio.run(go()) < 2


SCHEMA = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
FORMAT = {"type": "json_schema", "json_schema": {"name": "n", "schema": SCHEMA}}


def test_response_format_answer_is_checked_and_repaired_once(fake_server: FakeServer, fake_model: str) -> None:
    # fake-m's service has no preset that takes response_format: the schema goes into the prompt.
    fake_server.enqueue(reply("Sure! n is four"), reply('```json\n{"n": 4}\n```'))
    answer = lime.complete("give n", model=fake_model, response_format=FORMAT)
    assert answer.text == '```json\n{"n": 4}\n```'
    first, second = fake_server.chat_requests
    assert "response_format" not in first.json
    assert first.json["messages"][-1]["content"].startswith("give n\n\n") and "JSON Schema" in first.json["messages"][-1]["content"]
    assert [m["role"] for m in second.json["messages"]] == ["user", "assistant", "user"]
    assert second.json["messages"][1]["content"] == "Sure! n is four"
    assert "does not conform" in second.json["messages"][-1]["content"]


def test_response_format_second_wrong_answer_raises(fake_server: FakeServer, fake_model: str) -> None:
    fake_server.enqueue(reply("nope"), reply('{"n": "four"}'))

    async def go() -> None:
        await lime.acomplete("give n", model=fake_model, response_format=FORMAT)

    with pytest.raises(lime.errors.LimeError) as info:
        asyncio.run(go())
    assert "does not match the response_format schema" in str(info.value) and "$.n" in str(info.value)
    assert len(fake_server.chat_requests) == 2


def test_response_format_goes_on_the_wire_where_the_model_takes_it(fake_server: FakeServer, lime_home: Path) -> None:
    store.put(store.bucket_name("openai"), KEY, fake_server.base_url)
    fake_server.enqueue(reply('{"n": 7}'))
    answer = lime.complete("give n", model="gpt-4o-mini", response_format=FORMAT)
    assert answer.text == '{"n": 7}' and len(fake_server.chat_requests) == 1
    body = fake_server.last.json  # OpenAI's models speak the Responses API
    assert body["text"]["format"]["schema"] == FORMAT["json_schema"]["schema"]
    assert body["input"] == [{"type": "message", "role": "user", "content": "give n"}]


def test_a_missing_key_is_refused_before_any_request(lime_home: Path) -> None:
    with pytest.raises(lime.errors.ConfigError) as info:
        lime.complete("hi", model="llama-3.3-70b")
    assert "lime login --provider openai-compat --service groq --with-api-key" in str(info.value)
