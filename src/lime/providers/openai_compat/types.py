"""The provider's vocabulary: messages in, events and completions out.

Messages are OpenAI Chat Completions message dicts (``role``, ``content``, ``tool_calls``,
``tool_call_id``, optionally ``reasoning_content``) so a conversation can be stored and replayed
as-is; the request builder adapts them to what each service accepts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

Message = dict[str, Any]


class RouteCapabilities(Protocol):
    """What may be sent to the model (``lime.catalog.routing.Capabilities`` is one)."""

    @property
    def reasoning_effort(self) -> bool: ...
    @property
    def include_usage(self) -> bool: ...
    @property
    def tools(self) -> bool: ...
    @property
    def parallel_tool_calls(self) -> bool: ...
    @property
    def verbosity(self) -> bool: ...
    @property
    def response_format(self) -> bool: ...
    @property
    def max_tokens_field(self) -> str: ...
    @property
    def reasoning_levels(self) -> tuple[str, ...]: ...


class RoutePreset(Protocol):
    @property
    def local(self) -> bool: ...


class ChatRoute(Protocol):
    """What the client needs of a route (``lime.catalog.routing.Route`` is one); the provider
    depends on this shape, not on the catalog."""

    @property
    def slug(self) -> str: ...
    @property
    def service(self) -> str: ...
    @property
    def wire_model(self) -> str: ...
    @property
    def base_url(self) -> str | None: ...
    @property
    def api_key(self) -> str | None: ...
    @property
    def preset(self) -> RoutePreset | None: ...
    @property
    def capabilities(self) -> RouteCapabilities: ...
    @property
    def extra_body(self) -> dict[str, Any] | None: ...  # merged into every request body
    def request_headers(self) -> dict[str, str]: ...  # the key and any custom headers, as sent
    def login_hint(self) -> str: ...  # the lime login that stores a new key for this endpoint


@dataclass(frozen=True)
class ToolSpec:
    """A tool as the model is offered it: name, description and the JSON schema of its arguments."""

    name: str
    description: str
    parameters: dict[str, Any]

    def to_wire(self) -> dict[str, Any]:
        return {"type": "function",
                "function": {"name": self.name, "description": self.description, "parameters": self.parameters}}


@dataclass
class RequestOptions:
    """Everything about a request but its messages: output cap, reasoning, tools, format, streaming."""

    max_tokens: int | None = None
    reasoning_effort: str | None = None
    verbosity: str | None = None
    tools: list[ToolSpec] | None = None
    tool_choice: str | dict[str, Any] | None = None
    response_format: dict[str, Any] | None = None
    temperature: float | None = None
    stream: bool = True
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Usage:
    """The tokens one request used, as the service reported them (or estimated when it did not)."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    cached_tokens: int = 0  # of prompt_tokens, read from the service's prompt cache
    estimated: bool = False
    cache_write_tokens: int = 0  # of prompt_tokens, written to the prompt cache (Anthropic bills them apart)
    cache_write_1h_tokens: int = 0  # of cache_write_tokens, written to a one-hour cache (billed higher still)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"prompt_tokens": self.prompt_tokens, "completion_tokens": self.completion_tokens,
                               "total_tokens": self.total_tokens, "cached_tokens": self.cached_tokens,
                               "estimated": self.estimated}
        if self.cached_tokens or self.cache_write_tokens:
            out["cache_read_tokens"] = self.cached_tokens
            out["cache_write_tokens"] = self.cache_write_tokens
        if self.cache_write_1h_tokens:
            out["cache_write_1h_tokens"] = self.cache_write_1h_tokens
        return out


@dataclass
class ToolCall:
    """A call the model asked for: its id, the tool's name, and the arguments as it wrote them (JSON)."""

    id: str
    name: str
    arguments: str  # raw JSON text as the model produced it

    def to_message_part(self) -> dict[str, Any]:
        return {"id": self.id, "type": "function", "function": {"name": self.name, "arguments": self.arguments}}


# The two events made per streamed delta have slots (no dict per event) and set them through the
# slots' own descriptors: the generated frozen __init__ would go through object.__setattr__.
@dataclass(frozen=True, slots=True)
class TextDelta:
    """A piece of the answer's text, as it streams."""

    text: str
    kind: Literal["text"] = "text"

    def __init__(self, text: str, kind: Literal["text"] = "text") -> None:
        _SET_TEXT(self, text)
        _SET_TEXT_KIND(self, kind)


@dataclass(frozen=True, slots=True)
class ReasoningDelta:
    """A piece of the model's reasoning, as it streams."""

    text: str
    kind: Literal["reasoning"] = "reasoning"

    def __init__(self, text: str, kind: Literal["reasoning"] = "reasoning") -> None:
        _SET_REASONING(self, text)
        _SET_REASONING_KIND(self, kind)


_SET_TEXT, _SET_TEXT_KIND = TextDelta.__dict__["text"].__set__, TextDelta.__dict__["kind"].__set__
_SET_REASONING, _SET_REASONING_KIND = (ReasoningDelta.__dict__["text"].__set__,
                                       ReasoningDelta.__dict__["kind"].__set__)


@dataclass(frozen=True)
class ToolCallEvent:
    """A complete tool call, emitted once its fragments are assembled (at finish or end of stream)."""

    call: ToolCall
    kind: Literal["tool_call"] = "tool_call"


@dataclass(frozen=True)
class FinishEvent:
    """The answer is over, and why (``stop``, ``length``, ``tool_calls``...; None: not said)."""

    reason: str | None
    kind: Literal["finish"] = "finish"


@dataclass(frozen=True)
class UsageEvent:
    """The request's token usage, when the stream reports it."""

    usage: Usage
    kind: Literal["usage"] = "usage"


StreamEvent = TextDelta | ReasoningDelta | ToolCallEvent | FinishEvent | UsageEvent


@dataclass
class Completion:
    """A whole answer (streamed or not), ready to store as the assistant's message."""

    text: str = ""
    reasoning: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    finish_reason: str | None = None
    usage: Usage | None = None
    model: str = ""
    # The reasoning came inline (<think>…</think> in content): kept for the session, never sent back.
    reasoning_inline: bool = False
    # What a native wire must get back verbatim on the next turn (Anthropic thinking blocks and
    # their signatures, Responses encrypted reasoning items, Gemini thought signatures), tagged
    # with the wire's name; stored on the message as ``_wire`` so saved sessions keep it.
    state: dict[str, Any] | None = None

    def to_message(self) -> Message:
        msg: Message = {"role": "assistant", "content": self.text or None}
        if self.tool_calls:
            msg["tool_calls"] = [c.to_message_part() for c in self.tool_calls]
        if self.reasoning:
            msg["_reasoning" if self.reasoning_inline else "reasoning_content"] = self.reasoning
        if self.state:
            msg[WIRE_STATE] = self.state
        return msg


WIRE_STATE = "_wire"  # the message key of Completion.state (``_``: the compat wire never sends it)
