"""The sync and async clients run one flow: the same script gives the same events, answer and error."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from lime.providers.openai_compat.client import AsyncChatClient, ChatClient
from lime.providers.openai_compat.errors import ProviderError
from lime.providers.openai_compat.types import RequestOptions
from support.fakeserver import (
    SSE,
    Close,
    FakeServer,
    error,
    json_response,
    openai_error,
    overflow,
    reply,
    text_stream,
)

from .conftest import MakeRoute, track

HI = [{"role": "user", "content": "hello"}]

SCRIPTS: dict[str, list[Any]] = {
    "text": [reply("one two three", chunks=3)],
    "tool calls": [reply(tool_calls=[{"name": "read_file", "arguments": '{"path": "a"}'}])],
    "retry after 503": [error(503, "busy"), reply("second try")],
    "retry after a reset before output": [SSE([Close()]), reply("again")],
    "heal a refused field": [openai_error(400, "Unrecognized request argument supplied: max_tokens"), reply("healed")],
    "json body": [json_response({"choices": [{"message": {"content": "whole"}, "finish_reason": "stop"}]})],
    "error body with 200": [json_response({"error": {"message": "upstream failed"}}), reply("ok")],
    "sse body": [text_stream("streamed anyway")] * 3,
    "not json": [error(200, "nope!", content_type="application/json")] * 3,
    "overflow": [overflow("llamacpp", 9000, 8192)],
    "error in stream": [SSE([{"choices": [], "error": {"message": "provider died", "code": 502}}])] * 3,
    "cut after output": [reply("one two three", cut_after=2, force_stream=True)] * 3,
}


def outcome(run: Any) -> tuple[Any, ...]:
    try:
        events, completion = run()
    except ProviderError as err:
        partial = err.partial.text if err.partial else None
        return ("error", err.kind, str(err), partial)
    return ("ok", events, completion.text, [c.name for c in completion.tool_calls], completion.finish_reason)


OPTIONS = RequestOptions(max_tokens=50)


def sync_run(c: ChatClient, stream: bool) -> tuple[list[Any], Any]:
    if not stream:
        return [], c.complete(HI, OPTIONS)
    with c.stream(HI, OPTIONS) as s:
        events = list(s)
    return events, s.completion


def async_run(c: AsyncChatClient, stream: bool) -> tuple[list[Any], Any]:
    async def go() -> tuple[list[Any], Any]:
        async with c:
            if not stream:
                return [], await c.complete(HI, OPTIONS)
            async with c.stream(HI, OPTIONS) as s:
                events = [e async for e in s]
            return events, s.completion

    return asyncio.run(go())


@pytest.mark.parametrize("stream", [True, False], ids=["stream", "complete"])
@pytest.mark.parametrize("name", list(SCRIPTS))
def test_same_script_same_outcome(fake_server: FakeServer, make_route: MakeRoute, name: str, stream: bool) -> None:
    results = []
    for flavour in ("sync", "async"):
        fake_server.requests.clear()
        fake_server.queue.clear()
        fake_server.enqueue(*SCRIPTS[name])
        route = make_route(f"svc-{flavour}", fake_server.base_url, supports_include_usage=True)
        if flavour == "sync":
            results.append(outcome(lambda r=route: sync_run(track(ChatClient(r, max_retries=2)), stream)))
        else:
            results.append(outcome(lambda r=route: async_run(AsyncChatClient(r, max_retries=2), stream)))
        results.append(len(fake_server.chat_requests))
    sync, sync_requests, async_, async_requests = results
    assert str(sync).replace("svc-sync", "svc") == str(async_).replace("svc-async", "svc")
    assert sync_requests == async_requests
