"""The agent's event stream: what happens in a conversation, as typed events on one bus.

The agent loop and the tool executor ``emit``; the terminal UI, the session writer, the JSON
outputs (and hooks) ``subscribe``. Nothing outside the loop reaches into it, and the loop knows
nothing about who listens. Subscribers run in the emitting thread, in subscription order; one
that raises stops the turn (a closed stdout, say), as a failed write always did.

Events are plain slotted classes, not dataclasses: one is made per streamed chunk, and every
dataclass costs about a millisecond to define when a one-shot starts. Subscribers treat them as
read-only.

``Listener`` turns events into method calls (``text``, ``tool_start``...) for the UIs that
prefer methods; anything with a ``handle(event)`` method can subscribe.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from lime.providers.openai_compat.types import ToolCall, Usage
    from lime.runtime.registry import ToolResult


class Event:
    type: ClassVar[str] = "event"
    __slots__: ClassVar[tuple[str, ...]] = ()

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={getattr(self, k)!r}" for k in self.__slots__)
        return f"{type(self).__name__}({fields})"

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and all(getattr(self, k) == getattr(other, k) for k in self.__slots__)

    __hash__ = None  # type: ignore[assignment]


class SessionStarted(Event):
    type = "session_start"
    __slots__ = ("session_id", "model", "resumed")

    def __init__(self, session_id: str, model: str, resumed: bool) -> None:
        self.session_id = session_id
        self.model = model
        self.resumed = resumed


class SessionEnded(Event):
    type = "session_end"
    __slots__ = ("session_id",)

    def __init__(self, session_id: str) -> None:
        self.session_id = session_id


class PromptSubmitted(Event):
    type = "prompt"
    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


class RequestSent(Event):
    """A request is on its way (the UI's "thinking" moment)."""

    type = "request"
    __slots__ = ("model", "messages", "tools")

    def __init__(self, model: str, messages: int, tools: int) -> None:
        self.model = model
        self.messages = messages
        self.tools = tools


class TextDelta(Event):
    """Answer text as it streams (known keys already masked)."""

    type = "text"
    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


class ReasoningDelta(Event):
    type = "reasoning"
    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


class AnswerEnded(Event):
    """One streamed answer is over (finished, failed or cancelled)."""

    type = "answer_end"
    __slots__ = ()


class ToolRequested(Event):
    type = "tool_call"
    __slots__ = ("call", "args")

    def __init__(self, call: ToolCall, args: dict[str, Any] | None) -> None:
        self.call = call
        self.args = args  # None: the arguments could not be read


class PermissionDecided(Event):
    """Whether a tool call may run: ``by`` is "policy" (modes and rules) or "user" (asked)."""

    type = "permission"
    __slots__ = ("call", "decision", "reason", "by")

    def __init__(self, call: ToolCall, decision: str, reason: str, by: str) -> None:
        self.call = call
        self.decision = decision  # "allow" or "deny"
        self.reason = reason
        self.by = by


class ToolFinished(Event):
    type = "tool_result"
    __slots__ = ("call", "result")

    def __init__(self, call: ToolCall, result: ToolResult) -> None:
        self.call = call
        self.result = result


class CompactionStarted(Event):
    type = "compaction_start"
    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason


class CompactionEnded(Event):
    type = "compaction_end"
    __slots__ = ("reason", "compacted")

    def __init__(self, reason: str, compacted: bool) -> None:
        self.reason = reason
        self.compacted = compacted  # False: nothing changed (or it failed)


class MessageAdded(Event):
    """A message joined the conversation (the session writer keeps it; ``meta`` goes with it:
    ``interrupted``, ``failed``)."""

    type = "message"
    __slots__ = ("message", "usage", "meta")

    def __init__(self, message: dict[str, Any], usage: dict[str, Any] | None = None, **meta: Any) -> None:
        self.message = message
        self.usage = usage
        self.meta = meta


class HistoryRewritten(Event):
    """Compaction changed the history: ``summary`` (a summary message) replaced all but the last
    ``keep_last`` messages, or (``summary`` None) ``messages`` is the whole new history."""

    type = "history"
    __slots__ = ("summary", "keep_last", "messages", "meta")

    def __init__(self, *, summary: dict[str, Any] | None = None, keep_last: int = 0,
                 messages: list[dict[str, Any]] | None = None, **meta: Any) -> None:
        self.summary = summary
        self.keep_last = keep_last
        self.messages = messages
        self.meta = meta


class UsageSpent(Event):
    """Tokens spent on a request whose output stays out of the history (a compaction summary)."""

    type = "usage_spent"
    __slots__ = ("usage",)

    def __init__(self, usage: dict[str, Any]) -> None:
        self.usage = usage


class TurnFailed(Event):
    """A turn ended without an answer (an error, a cancel): the history says so."""

    type = "turn_failed"
    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason


class UsageReported(Event):
    type = "usage"
    __slots__ = ("usage",)

    def __init__(self, usage: Usage) -> None:
        self.usage = usage


class TurnEnded(Event):
    type = "turn_end"
    __slots__ = ("text", "requests", "stopped")

    def __init__(self, text: str, requests: int, stopped: str | None) -> None:
        self.text = text
        self.requests = requests
        self.stopped = stopped


class TurnCancelled(Event):
    type = "cancelled"
    __slots__ = ("partial",)

    def __init__(self, partial: str) -> None:
        self.partial = partial


class ModeChanged(Event):
    type = "mode"
    __slots__ = ("mode",)

    def __init__(self, mode: str) -> None:
        self.mode = mode


class PlanPresented(Event):
    """The model finished a plan (``exit_plan_mode``); ``decision``: approve, reject or none (no terminal)."""

    type = "plan"
    __slots__ = ("plan", "path", "decision")

    def __init__(self, plan: str, path: str, decision: str) -> None:
        self.plan = plan
        self.path = path
        self.decision = decision


class ToolProgress(Event):
    """A running tool's progress (an MCP server's progress notification): a line for its status."""

    type = "tool_progress"
    __slots__ = ("call_id", "text")

    def __init__(self, call_id: str, text: str) -> None:
        self.call_id = call_id
        self.text = text


class Notice(Event):
    """Something the user should read (a refused call, a compaction, a server quirk)."""

    type = "notice"
    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


Subscriber = Callable[[Event], None]


class EventBus:
    """Subscribers in order; ``emit`` calls each."""

    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []

    def subscribe(self, fn: Subscriber) -> Callable[[], None]:
        """Add ``fn``; returns a function that removes it."""
        self._subscribers.append(fn)

        def unsubscribe() -> None:
            if fn in self._subscribers:
                self._subscribers.remove(fn)

        return unsubscribe

    def emit(self, event: Event) -> None:
        for fn in self._subscribers:
            fn(event)


class Listener:
    """A subscriber that calls a method per event it shows; the methods do nothing here."""

    def handle(self, event: Event) -> None:
        if isinstance(event, TextDelta):
            self.text(event.text)
        elif isinstance(event, ReasoningDelta):
            self.reasoning(event.text)
        elif isinstance(event, RequestSent):
            self.waiting()
        elif isinstance(event, AnswerEnded):
            self.answer_done()
        elif isinstance(event, ToolRequested):
            self.tool_start(event.call, event.args)
        elif isinstance(event, ToolFinished):
            self.tool_done(event.call, event.result)
        elif isinstance(event, Notice):
            self.notice(event.text)
        else:
            self.other(event)

    def waiting(self) -> None:
        pass

    def text(self, delta: str) -> None:
        pass

    def reasoning(self, delta: str) -> None:
        pass

    def answer_done(self) -> None:
        pass

    def tool_start(self, call: ToolCall, args: dict[str, Any] | None) -> None:
        pass

    def tool_done(self, call: ToolCall, result: ToolResult) -> None:
        pass

    def notice(self, text: str) -> None:
        pass

    def other(self, event: Event) -> None:
        """Every other event (permission decisions, usage, compaction...)."""
