"""The agent's event stream: what happens in a conversation, as typed events on one bus.

The agent loop and the tool executor ``emit``; the terminal UI, the session writer, the JSON
outputs (and hooks) ``subscribe``. Nothing outside the loop reaches into it, and the loop knows
nothing about who listens. Subscribers run in the emitting thread, in subscription order; one
that raises stops the turn (a closed stdout, say), as a failed write always did.

``Listener`` turns events into method calls (``text``, ``tool_start``...) for the UIs that
prefer methods; anything with a ``handle(event)`` method can subscribe.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from lime.providers.openai_compat.types import ToolCall, Usage
    from lime.runtime.registry import ToolResult


@dataclass(frozen=True, slots=True)
class Event:
    type: ClassVar[str] = "event"


@dataclass(frozen=True, slots=True)
class SessionStarted(Event):
    type: ClassVar[str] = "session_start"
    session_id: str
    model: str
    resumed: bool


@dataclass(frozen=True, slots=True)
class SessionEnded(Event):
    type: ClassVar[str] = "session_end"
    session_id: str


@dataclass(frozen=True, slots=True)
class PromptSubmitted(Event):
    type: ClassVar[str] = "prompt"
    text: str


@dataclass(frozen=True, slots=True)
class RequestSent(Event):
    """A request is on its way (the UI's "thinking" moment)."""

    type: ClassVar[str] = "request"
    model: str
    messages: int
    tools: int


@dataclass(frozen=True, slots=True)
class TextDelta(Event):
    """Answer text as it streams (known keys already masked)."""

    type: ClassVar[str] = "text"
    text: str


@dataclass(frozen=True, slots=True)
class ReasoningDelta(Event):
    type: ClassVar[str] = "reasoning"
    text: str


@dataclass(frozen=True, slots=True)
class AnswerEnded(Event):
    """One streamed answer is over (finished, failed or cancelled)."""

    type: ClassVar[str] = "answer_end"


@dataclass(frozen=True, slots=True)
class ToolRequested(Event):
    type: ClassVar[str] = "tool_call"
    call: ToolCall
    args: dict[str, Any] | None  # None: the arguments could not be read


@dataclass(frozen=True, slots=True)
class PermissionDecided(Event):
    """Whether a tool call may run: ``by`` is "policy" (modes and rules) or "user" (asked)."""

    type: ClassVar[str] = "permission"
    call: ToolCall
    decision: str  # "allow" or "deny"
    reason: str
    by: str


@dataclass(frozen=True, slots=True)
class ToolFinished(Event):
    type: ClassVar[str] = "tool_result"
    call: ToolCall
    result: ToolResult


@dataclass(frozen=True, slots=True)
class CompactionStarted(Event):
    type: ClassVar[str] = "compaction_start"
    reason: str


@dataclass(frozen=True, slots=True)
class CompactionEnded(Event):
    type: ClassVar[str] = "compaction_end"
    reason: str
    compacted: bool  # False: nothing changed (or it failed)


@dataclass(frozen=True, slots=True)
class UsageReported(Event):
    type: ClassVar[str] = "usage"
    usage: Usage


@dataclass(frozen=True, slots=True)
class TurnEnded(Event):
    type: ClassVar[str] = "turn_end"
    text: str
    requests: int
    stopped: str | None


@dataclass(frozen=True, slots=True)
class TurnCancelled(Event):
    type: ClassVar[str] = "cancelled"
    partial: str


@dataclass(frozen=True, slots=True)
class ModeChanged(Event):
    type: ClassVar[str] = "mode"
    mode: str


@dataclass(frozen=True, slots=True)
class PlanPresented(Event):
    """The model finished a plan (``exit_plan_mode``); ``decision``: approve, reject or none (no terminal)."""

    type: ClassVar[str] = "plan"
    plan: str
    path: str
    decision: str


@dataclass(frozen=True, slots=True)
class Notice(Event):
    """Something the user should read (a refused call, a compaction, a server quirk)."""

    type: ClassVar[str] = "notice"
    text: str


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
