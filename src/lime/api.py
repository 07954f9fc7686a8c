"""lime's Python API: the same catalog, credentials and provider the ``lime`` command uses.

    import lime
    print(lime.complete("Say hello", model="llama-3.3-70b").text)
    for event in lime.stream("Tell me a story"):
        if event.kind == "text":
            print(event.text, end="", flush=True)

    with lime.Client("gpt-5.4") as client:             # one pooled connection for many requests
        answer = client.complete([{"role": "user", "content": "hi"}], max_tokens=100)

    async with lime.AsyncClient() as client:
        async for event in client.stream("hi"):
            ...

A prompt may be a string (one user message, optionally after ``system``) or a list of Chat
Completions message dicts. Errors are :class:`lime.providers.openai_compat.errors.ProviderError`
(``ContextOverflowError`` for an over-long conversation) or another ``LimeError``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Iterator
from typing import Any

from lime.providers.openai_compat.types import Completion, Message, RequestOptions, StreamEvent, ToolSpec

__all__ = ["AsyncClient", "Client", "acomplete", "astream", "complete", "stream"]

Prompt = str | list[Message]

_OPTION_NAMES = ("max_tokens", "reasoning_effort", "verbosity", "tools", "tool_choice", "response_format",
                 "temperature", "extra")


def _messages(prompt: Prompt, system: str | None) -> list[Message]:
    if isinstance(prompt, str):
        msgs: list[Message] = [{"role": "user", "content": prompt}]
    else:
        msgs = [dict(m) for m in prompt]
    if system is not None and not (msgs and msgs[0].get("role") == "system"):
        msgs.insert(0, {"role": "system", "content": system})
    return msgs


def _options(options: RequestOptions | None, kw: dict[str, Any]) -> RequestOptions:
    unknown = set(kw) - set(_OPTION_NAMES)
    if unknown:
        raise TypeError(f"unknown option(s): {', '.join(sorted(unknown))}")
    opts = dataclasses.replace(options) if options is not None else RequestOptions()
    for name, value in kw.items():
        if name == "tools" and value is not None:
            value = [t if isinstance(t, ToolSpec) else ToolSpec(t["name"], t.get("description", ""),
                                                                 t.get("parameters", {})) for t in value]
        setattr(opts, name, value)
    return opts


def _route(model: str | None) -> Any:
    from lime.catalog.routing import resolve_route, select_model

    route = resolve_route(select_model(model).slug)
    if route.managed_local and route.base_url is None:
        from lime.local.connect import activate

        route = activate(route)
    return route


class Client:
    """A model resolved once, with one pooled connection. ``model``: a catalog slug (default: the
    same choice ``lime`` makes: LIME_MODEL, the configured default, ...)."""

    def __init__(self, model: str | None = None, *, system: str | None = None, verbose: bool = False,
                 **client_options: Any) -> None:
        from lime.providers.openai_compat.client import ChatClient

        self.route = _route(model)
        self.system = system
        self._client = ChatClient(self.route, verbose=verbose, **client_options)

    @property
    def model(self) -> str:
        return str(self.route.slug)

    def complete(self, prompt: Prompt, *, options: RequestOptions | None = None, **kw: Any) -> Completion:
        return self._client.complete(_messages(prompt, self.system), _options(options, kw))

    def stream(self, prompt: Prompt, *, options: RequestOptions | None = None, **kw: Any) -> Iterator[StreamEvent]:
        """Events as they arrive; closing the iterator (or breaking out of the loop) hangs up."""
        s = self._client.stream(_messages(prompt, self.system), _options(options, kw))
        with s:
            yield from s

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncClient:
    """The asyncio twin of :class:`Client`."""

    def __init__(self, model: str | None = None, *, system: str | None = None, verbose: bool = False,
                 **client_options: Any) -> None:
        from lime.providers.openai_compat.client import AsyncChatClient

        self.route = _route(model)
        self.system = system
        self._client = AsyncChatClient(self.route, verbose=verbose, **client_options)

    @property
    def model(self) -> str:
        return str(self.route.slug)

    async def complete(self, prompt: Prompt, *, options: RequestOptions | None = None, **kw: Any) -> Completion:
        return await self._client.complete(_messages(prompt, self.system), _options(options, kw))

    async def stream(self, prompt: Prompt, *, options: RequestOptions | None = None,
                     **kw: Any) -> AsyncIterator[StreamEvent]:
        s = self._client.stream(_messages(prompt, self.system), _options(options, kw))
        async with s:
            async for ev in s:
                yield ev

    async def close(self) -> None:
        await self._client.close()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


def complete(prompt: Prompt, *, model: str | None = None, system: str | None = None,
             options: RequestOptions | None = None, **kw: Any) -> Completion:
    """One answer, not streamed."""
    with Client(model, system=system) as c:
        return c.complete(prompt, options=options, **kw)


def stream(prompt: Prompt, *, model: str | None = None, system: str | None = None,
           options: RequestOptions | None = None, **kw: Any) -> Iterator[StreamEvent]:
    """Events of one streamed answer (TextDelta, ReasoningDelta, ToolCallEvent, FinishEvent, UsageEvent)."""
    with Client(model, system=system) as c:
        yield from c.stream(prompt, options=options, **kw)


async def acomplete(prompt: Prompt, *, model: str | None = None, system: str | None = None,
                    options: RequestOptions | None = None, **kw: Any) -> Completion:
    async with AsyncClient(model, system=system) as c:
        return await c.complete(prompt, options=options, **kw)


async def astream(prompt: Prompt, *, model: str | None = None, system: str | None = None,
                  options: RequestOptions | None = None, **kw: Any) -> AsyncIterator[StreamEvent]:
    async with AsyncClient(model, system=system) as c:
        async for ev in c.stream(prompt, options=options, **kw):
            yield ev
