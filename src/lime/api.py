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

``response_format={"type": "json_schema", ...}`` on ``complete`` gets what ``--output-schema`` gets:
the schema goes to models that take it and into the prompt for those that do not, the answer is
checked, a wrong one is sent back once for repair, and a second wrong one raises ``LimeError``.

The model is chosen, its endpoint started (lime's local server) and its key checked by the same
``lime.runtime.setup`` the ``lime`` command uses. This module is in the top layer beside
``lime.cli`` (it may import every other package; neither imports the other).
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Generator, Iterator
from typing import Any, ClassVar

from lime.providers.openai_compat.types import Completion, Message, RequestOptions, StreamEvent, ToolSpec

__all__ = ["AsyncClient", "Client", "acomplete", "astream", "complete", "stream"]

Prompt = str | list[Message]

_OPTION_NAMES = ("max_tokens", "reasoning_effort", "verbosity", "tools", "tool_choice", "response_format",
                 "temperature", "extra")

# A request's course: it yields (messages, options) to send and receives each answer; it returns
# the final answer. The sync and async clients drive the same flow.
Exchange = Generator[tuple[list[Message], RequestOptions], Completion | None, Completion]


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


def _with_instruction(messages: list[Message], instruction: str) -> list[Message]:
    """The schema as words, for a model that does not take ``response_format``."""
    last = messages[-1] if messages else None
    if last is not None and last.get("role") == "user" and isinstance(last.get("content"), str):
        return [*messages[:-1], {**last, "content": f"{last['content']}\n\n{instruction}"}]
    return [*messages, {"role": "user", "content": instruction}]


def _step(flow: Exchange, answer: Completion | None) -> tuple[list[Message], RequestOptions] | Completion:
    """The next request of ``flow`` after ``answer`` (None to start), or its final answer."""
    try:
        return flow.send(answer)
    except StopIteration as done:
        final: Completion = done.value
        return final


class _Base:
    """What the sync and async clients share: the model's route and the course of a request."""

    _driver: ClassVar[str]  # the provider client class this API client drives

    def __init__(self, model: str | None = None, *, system: str | None = None, verbose: bool = False,
                 **client_options: Any) -> None:
        from lime.local.connect import LocalEndpoint
        from lime.providers.openai_compat import client
        from lime.runtime.setup import choose_model, ready_route

        endpoint = LocalEndpoint()
        self.route = ready_route(choose_model(model, endpoint)[0], endpoint)
        self.system = system
        from lime.providers import wire_for

        client_options.setdefault("wire", wire_for(self.route))
        self._client = getattr(client, self._driver)(self.route, verbose=verbose, **client_options)

    @property
    def model(self) -> str:
        return str(self.route.slug)

    def _exchange(self, prompt: Prompt, options: RequestOptions | None, kw: dict[str, Any]) -> Exchange:
        from lime.runtime import schema as schemas

        messages, opts = _messages(prompt, self.system), _options(options, kw)
        schema = schemas.schema_of(opts.response_format)
        if schema is not None and not self.route.capabilities.response_format:
            messages = _with_instruction(messages, schemas.instruction(schema))
        answer = yield messages, opts
        assert answer is not None
        if schema is None:
            return answer
        _value, problems = schemas.check(answer.text, schema)
        if problems:
            repair: Message = {"role": "user", "content": schemas.repair_prompt(problems)}
            answer = yield [*messages, {"role": "assistant", "content": answer.text}, repair], opts
            assert answer is not None
            _value, problems = schemas.check(answer.text, schema)
            if problems:
                raise schemas.mismatch(problems, "the response_format schema")
        return answer

    def _first(self, prompt: Prompt, options: RequestOptions | None, kw: dict[str, Any]) -> tuple[
            list[Message], RequestOptions]:
        """What a streamed request sends (a stream is never repaired: it is shown as it arrives)."""
        return next(self._exchange(prompt, options, kw))


class Client(_Base):
    """A model resolved once, with one pooled connection. ``model``: a catalog slug (default: the
    same choice ``lime`` makes: LIME_MODEL, the configured default, ...)."""

    _driver = "ChatClient"

    def complete(self, prompt: Prompt, *, options: RequestOptions | None = None, **kw: Any) -> Completion:
        flow = self._exchange(prompt, options, kw)
        step = _step(flow, None)
        while not isinstance(step, Completion):
            step = _step(flow, self._client.complete(*step))
        return step

    def stream(self, prompt: Prompt, *, options: RequestOptions | None = None, **kw: Any) -> Iterator[StreamEvent]:
        """Events as they arrive; closing the iterator (or breaking out of the loop) hangs up."""
        s = self._client.stream(*self._first(prompt, options, kw))
        with s:
            yield from s

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncClient(_Base):
    """The asyncio form of :class:`Client`."""

    _driver = "AsyncChatClient"

    async def complete(self, prompt: Prompt, *, options: RequestOptions | None = None, **kw: Any) -> Completion:
        flow = self._exchange(prompt, options, kw)
        step = _step(flow, None)
        while not isinstance(step, Completion):
            step = _step(flow, await self._client.complete(*step))
        return step

    async def stream(self, prompt: Prompt, *, options: RequestOptions | None = None,
                     **kw: Any) -> AsyncIterator[StreamEvent]:
        s = self._client.stream(*self._first(prompt, options, kw))
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
