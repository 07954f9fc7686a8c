"""The agent loop: send the conversation, stream the answer, run requested tools, repeat.

The loop owns the conversation state (through the session, which persists every step as it
happens) and reports progress as events on its bus (``events``): the REPL, one-shot text output,
the JSON formats and the session's streamed-text writer subscribe. Tool calls go to the
``executor`` (registry, permissions, approvals). The loop compacts the conversation before a
request that would not fit, and once more after a context-overflow error before retrying.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from lime import config
from lime.errors import LimeError
from lime.providers.openai_compat.types import (
    Completion,
    Message,
    ReasoningDelta,
    RequestOptions,
    TextDelta,
    ToolSpec,
    Usage,
)
from lime.runtime import compaction
from lime.runtime import events as ev
from lime.runtime.executor import Approval, Approver, Executor, Interrupted, NoApprover
from lime.runtime.permissions import Policy
from lime.runtime.registry import ToolRegistry
from lime.runtime.session import Session
from lime.runtime.tools import ALIASES, TOOLS, Workspace

if TYPE_CHECKING:
    from lime.catalog.routing import Route
    from lime.runtime.plan import Plan
    from lime.tokens.learned import Calibration

# Endpoint hooks, supplied by whoever knows the endpoint (``lime.local`` for lime's own server):
# ``prepare`` runs before each request and may return the route with a new endpoint (a restarted
# server); ``recover`` runs after a connection error and returns a route to retry on, or None.
Prepare = Callable[["Route"], "Route"]
Recover = Callable[[Exception, "Route"], "Route | None"]


__all__ = ["Agent", "Approval", "Cancelled", "QuietUI", "Settings", "TurnResult", "UI"]


class UI(Approver, Protocol):
    """What a chat mode hands the session factory: an event subscriber that can also ask the user."""

    def handle(self, event: ev.Event) -> None: ...
    def notice(self, text: str) -> None: ...


class QuietUI(ev.Listener, NoApprover):
    """Shows nothing and can never ask (internal requests; a base for tests' listeners)."""


class Cancelled(Exception):
    """The user interrupted the answer; what streamed so far is kept in the session."""

    def __init__(self, text: str) -> None:
        super().__init__("cancelled")
        self.text = text


@dataclass
class ToolRecord:
    """One tool call of a turn and how it ended, as the turn's result reports it."""

    id: str
    name: str
    arguments: Any
    status: str
    result: str

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "arguments": self.arguments, "status": self.status,
                "result": self.result if len(self.result) <= 4000 else self.result[:4000] + "..."}


@dataclass
class TurnResult:
    """What a turn came to: the answer, the tool calls, the tokens used and why it stopped."""

    text: str = ""
    reasoning: str = ""
    tool_calls: list[ToolRecord] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    requests: int = 0
    finish_reason: str | None = None
    stopped: str | None = None  # "max_turns" when the loop gave up
    compactions: int = 0


@dataclass
class Settings:
    """How the session's requests are made (output cap, reasoning, tools...) and how many a turn may make."""

    max_tokens: int | None = None
    reasoning: str | None = None
    verbosity: str | None = None
    response_format: dict[str, Any] | None = None
    tools_enabled: bool = True
    max_turns: int = 25
    verbose: bool = False


def count_text(text: str) -> int:
    from lime.tokens import count_text as _count

    return int(_count(text))


def byte_bound(messages: list[Message], tools: list[ToolSpec] | None) -> int:
    """An upper bound on the prompt's tokens: its UTF-8 size plus per-message and per-tool overhead."""
    size = len(json.dumps(messages, ensure_ascii=False).encode("utf-8")) + 8 * len(messages) + 8
    for t in tools or []:
        size += len(json.dumps(t.parameters).encode("utf-8")) + len(t.name) + len(t.description.encode("utf-8")) + 16
    return size


def compact_threshold(route: Route) -> int:
    """The entry's auto_compact, unless an environment override says otherwise."""
    window = route.entry.context_window
    tokens = config.auto_compact_tokens_override()
    if tokens is not None:
        return tokens
    pct = config.auto_compact_pct_override()
    if pct is not None:
        return max(1, int(window * pct / 100))
    return route.entry.auto_compact


class Agent:
    """One conversation with one model (switchable), persisted step by step in its session."""

    def __init__(self, route: Route, session: Session, *, policy: Policy, workspace: Workspace,
                 settings: Settings, ui: UI | None = None, events: ev.EventBus | None = None,
                 registry: ToolRegistry | None = None, approver: Approver | None = None,
                 plan: Plan | None = None, prepare: Prepare | None = None, recover: Recover | None = None) -> None:
        self.route = route
        self.session = session
        self.policy = policy
        self.workspace = workspace
        self.settings = settings
        self.events = events or ev.EventBus()
        if ui is not None:
            self.events.subscribe(ui.handle)
        self.approver: Approver = approver or ui or NoApprover()
        self.executor = Executor(registry or ToolRegistry(TOOLS.values(), ALIASES), policy, workspace, self.events,
                                 self.approver, plan, agent=self)
        self.prepare = prepare
        self.recover = recover
        # Seam for hooks: each may extend the user's prompt or refuse it (a LimeError), in order.
        self.before_prompt: list[Callable[[str], str]] = []
        self._unsubscribe_session = self.events.subscribe(session.handle)  # the answer's text is saved as it streams
        self._price(session)
        self._client: Any = None
        # The server's real window when an overflow error told us it is smaller than the catalog says.
        self._window_cap: int | None = None
        self._max_tokens_once: int | None = None  # the upper cap for one retry of a cut tool call
        # History length right after the last compaction: never compact the same history twice.
        self._compacted_at: int | None = None
        # Server-reported size of the conversation's first N messages, as (N, tokens); None: unknown.
        self.anchor: tuple[int, int] | None = None

    # -- plumbing ------------------------------------------------------------------------

    @property
    def client(self) -> Any:
        if self._client is None:
            from lime.providers import open_client

            self._client = open_client(self.route, verbose=self.settings.verbose, notice=self.notify)
        return self._client

    def notify(self, text: str) -> None:
        """Tell the user something (a Notice event)."""
        self.events.emit(ev.Notice(text))

    @property
    def registry(self) -> ToolRegistry:
        return self.executor.registry

    def set_mode(self, mode: str) -> None:
        """Switch the permission mode (plan mode offers other tools from the next request on)."""
        self.policy.set_mode(mode)
        self.workspace.sandbox = self.policy.sandboxed
        self.events.emit(ev.ModeChanged(mode))

    def _price(self, session: Session) -> None:
        from lime.catalog.prices import prices_for

        session.prices = prices_for(self.route.entry)

    def set_route(self, route: Route) -> None:
        self.close()
        self.route = route
        self._price(self.session)
        self.anchor = None
        self._window_cap = None

    def switch_session(self, session: Session) -> None:
        """Continue in another session (/resume, /new, /fork): the old one's file is closed."""
        self._unsubscribe_session()
        self.session.close()
        self.session = session
        self._unsubscribe_session = self.events.subscribe(session.handle)
        self._price(session)
        self.anchor = None
        self._compacted_at = None

    def clear(self) -> None:
        """Start the conversation over (the session keeps its system prompt)."""
        self.session.clear()
        self.anchor = None
        self._compacted_at = None

    @property
    def calibration(self) -> Calibration:
        """What this route's server has taught lime about its token counts."""
        from lime.tokens import learned

        return learned.for_model(self.route.service, self.route.wire_model)

    @property
    def window(self) -> int:
        window = self.route.entry.context_window
        return min(window, self._window_cap) if self._window_cap else window

    def threshold(self) -> int:
        threshold = compact_threshold(self.route)
        if self._window_cap:
            out = min(self.route.entry.max_output, self._window_cap // 4)
            threshold = min(threshold, max(1, self._window_cap * 9 // 10 - out))
        return threshold

    def end(self) -> None:
        """The conversation is over: say so to the subscribers, hang up, close the session file."""
        try:
            self.events.emit(ev.SessionEnded(self.session.id))
        finally:
            self.close()
            self.session.close()

    def close(self) -> None:
        if self._client is not None:
            with contextlib.suppress(Exception):
                self._client.close()
            self._client = None

    @property
    def messages(self) -> list[Message]:
        return self.session.messages

    def tool_specs(self) -> list[ToolSpec] | None:
        if not self.settings.tools_enabled or not self.route.capabilities.tools:
            return None
        return [t.spec() for t in self.executor.offered()]

    def options(self, tools: list[ToolSpec] | None) -> RequestOptions:
        return RequestOptions(
            max_tokens=self.settings.max_tokens or self._max_tokens_once,
            reasoning_effort=self.settings.reasoning,
            verbosity=self.settings.verbosity,
            tools=tools,
            tool_choice="auto" if tools else None,
            response_format=self.settings.response_format,
        )

    def estimated_input(self, tools: list[ToolSpec] | None = None, limit: int | None = None) -> int:
        """The prompt's size as this server counts it (learned); ``limit``: exact near that limit."""
        cal = self.calibration
        plain = cal.prompt(self.messages, tools) if limit is None else cal.prompt_near(self.messages, tools, limit)
        if self.anchor is not None:
            length, tokens = self.anchor
            if length <= len(self.messages):
                newer = self.messages[length:]
                return max(plain, tokens + (cal.prompt(newer, None) if newer else 0))
        return plain

    def needs_compaction(self, tools: list[ToolSpec] | None) -> bool:
        window = self.window
        out = self.settings.max_tokens or self.route.entry.max_output
        # A token is never shorter than a byte: a conversation whose bytes fit needs no estimate.
        bound = byte_bound(self.messages, tools)
        if bound <= self.threshold() and bound + min(out, window // 4) <= window:
            return False
        size = self.estimated_input(tools, limit=min(self.threshold(), window - min(out, window // 4)))
        if size > self.threshold() or size >= window:
            return True  # a threshold set above the window does not make an overlong request fit
        if config.auto_compact_tokens_override() is not None or config.auto_compact_pct_override() is not None:
            return False  # otherwise an explicit threshold is the whole rule
        # Budget input plus room for the answer: a request that cannot fit its reply is compacted first.
        return size + min(out, window // 4) > window

    # -- the loop ------------------------------------------------------------------------

    def run(self, prompt: str | None, *, parts: list[dict[str, Any]] | None = None) -> TurnResult:
        """Add the user's message (if any) and run until the model answers without tool calls.

        A turn that ends without an answer (an error, a cancel) is recorded as such, so the next
        prompt never follows this one as a second user message in a row.
        """
        if prompt is not None:
            for check in self.before_prompt:
                prompt = check(prompt)
            self.events.emit(ev.PromptSubmitted(prompt))
            content: str | list[dict[str, Any]] = [{"type": "text", "text": prompt}, *parts] if parts else prompt
            self.events.emit(ev.MessageAdded({"role": "user", "content": content}))
        try:
            result = self._turn()
        except (Cancelled, KeyboardInterrupt) as exc:
            self.events.emit(ev.TurnFailed("the user cancelled this turn"))
            self.events.emit(ev.TurnCancelled(exc.text if isinstance(exc, Cancelled) else ""))
            raise
        except LimeError as exc:
            self.events.emit(ev.TurnFailed(f"the turn failed: {str(exc)[:300]}"))
            raise
        self.events.emit(ev.TurnEnded(result.text, result.requests, result.stopped))
        return result

    def _turn(self) -> TurnResult:
        result = TurnResult()
        while True:
            tools = self.tool_specs()  # each request: a tool call may have changed the mode or the registry
            if result.requests >= self.settings.max_turns:
                result.stopped = "max_turns"
                return result
            if (self.needs_compaction(tools) and self._compacted_at != len(self.messages)
                    and self.compact("auto")):
                result.compactions += 1
            self.check_fits(tools)
            self._prepare_endpoint()
            completion = self._request(tools, result)
            if completion.finish_reason == "length" and completion.tool_calls and self.settings.max_tokens is None:
                completion = self._again_with_upper_cap(tools, result, completion)
            cut = self._silently_truncated(completion)
            if not cut:  # a count of what the server kept would teach the estimate the wrong ratio
                self._learn_usage(completion, tools)
            result.requests += 1
            self._add_usage(result, completion.usage)
            if completion.usage is not None:
                self.events.emit(ev.UsageReported(completion.usage))
            result.text = completion.text
            result.reasoning = completion.reasoning
            result.finish_reason = completion.finish_reason
            usage_json = completion.usage.to_json() if completion.usage else None
            self.events.emit(ev.MessageAdded(completion.to_message(), usage_json))
            if completion.usage and not completion.usage.estimated and not cut:
                self.anchor = (len(self.messages), completion.usage.prompt_tokens + completion.usage.completion_tokens)
            if cut and self._compacted_at != len(self.messages) and self.compact("the server truncated it"):
                result.compactions += 1
            if not completion.tool_calls:
                if completion.finish_reason == "pause_turn":
                    continue  # Anthropic paused a long turn: the history sent again resumes it
                if completion.finish_reason == "length":
                    self.notify("the answer stopped at the output token limit"
                                   + (" (--max-tokens)" if self.settings.max_tokens else ""))
                elif completion.finish_reason == "content_filter":
                    self.notify("the service's content filter stopped the answer")
                return result
            last_allowed = result.requests < self.settings.max_turns
            if self._run_tools(completion.tool_calls, result, run=last_allowed, offered=tools is not None):
                result.stopped = "plan"
                return result
            if not last_allowed:
                result.stopped = "max_turns"
                return result

    def _silently_truncated(self, completion: Completion) -> bool:
        """A server that read far less than was sent cut the prompt: say so and lower the window."""
        from lime.runtime import truncation

        usage = completion.usage
        if usage is None or usage.estimated:
            return False
        # Messages only: servers differ in whether (and how) tool definitions count, a cut does not.
        sent = truncation.truncated(usage.prompt_tokens, byte_bound(self.messages, None),
                                    lambda: self.calibration.prompt(self.messages, None))
        if sent is None:
            return False
        self.notify(truncation.notice(self.route, usage.prompt_tokens, sent))
        self._window_cap = min(self.window, usage.prompt_tokens + usage.completion_tokens)
        return True

    def _learn_usage(self, completion: Completion, tools: list[ToolSpec] | None) -> None:
        """Teach the estimate from a server-reported usage, or apply what it learned to an estimated one.

        Called before the answer joins the history, so ``self.messages`` is what was sent."""
        u = completion.usage
        if u is None:
            return
        answer = completion.text + completion.reasoning + "".join(t.name + t.arguments for t in completion.tool_calls)
        cal = self.calibration
        if u.estimated:
            prompt, out = cal.prompt(self.messages, tools), cal.completion(answer)
            completion.usage = Usage(prompt, out, prompt + out, 0, estimated=True)
        else:
            cal.observe(self.messages, tools, answer, u.prompt_tokens, u.completion_tokens)

    def _add_usage(self, result: TurnResult, usage: Usage | None) -> None:
        if usage is None:
            return
        result.usage.prompt_tokens += usage.prompt_tokens
        result.usage.completion_tokens += usage.completion_tokens
        result.usage.total_tokens += usage.total_tokens or (usage.prompt_tokens + usage.completion_tokens)
        result.usage.cached_tokens += usage.cached_tokens
        result.usage.cache_write_tokens += usage.cache_write_tokens
        result.usage.cache_write_1h_tokens += usage.cache_write_1h_tokens
        result.usage.estimated = result.usage.estimated or usage.estimated

    def _request(self, tools: list[ToolSpec] | None, result: TurnResult) -> Completion:
        from lime.providers.openai_compat.errors import ContextOverflowError, ProviderError

        try:
            return self._stream_once(tools)
        except ContextOverflowError as exc:
            if exc.partial is not None and exc.partial.text:
                raise
            n_ctx = exc.n_ctx
            if isinstance(n_ctx, int) and 0 < n_ctx < self.route.entry.context_window:
                self._window_cap = n_ctx
            if not self.compact("context overflow; will retry"):
                raise
            result.compactions += 1
            self.check_fits(tools)
        except ProviderError as exc:
            if not self._recover_endpoint(exc):
                raise
        return self._stream_once(tools)

    def _again_with_upper_cap(self, tools: list[ToolSpec] | None, result: TurnResult, cut: Completion) -> Completion:
        """A tool call cut off at the output limit is no call (its arguments end mid-way): ask
        once more with the model's upper cap (``upper_max_output``, Lime's retry cap), unless the
        entry has no more room to give. The cut answer's tokens still count."""
        upper = self.route.entry.upper_max_output
        if upper <= self.route.entry.max_output:
            return cut
        result.requests += 1
        self._add_usage(result, cut.usage)
        if cut.usage is not None:
            self.events.emit(ev.UsageSpent(cut.usage.to_json()))
        self.notify(f"a tool call was cut off at the output token limit; asking again with room for {upper:,} "
                    "tokens (the model's upper cap)")
        self._max_tokens_once = upper
        try:
            return self._request(tools, result)
        finally:
            self._max_tokens_once = None

    def _prepare_endpoint(self) -> None:
        """Let the endpoint's owner check it before each request (lime's own server: start it again
        if it stopped, ~1 ms when it runs) rather than spend the retry budget on a refused connection."""
        if self.prepare is None:
            return
        route = self.prepare(self.route)
        if route is not self.route:
            self.set_route(route)

    def _recover_endpoint(self, exc: Exception) -> bool:
        """After a connection error with nothing streamed: ask the endpoint's owner for a route to retry on."""
        partial = getattr(exc, "partial", None)
        if self.recover is None or getattr(exc, "kind", None) != "connection" or (partial and partial.text):
            return False
        route = self.recover(exc, self.route)
        if route is None:
            return False
        self.set_route(route)
        return True

    def _stream_once(self, tools: list[ToolSpec] | None) -> Completion:
        from lime.auth.masking import StreamRedactor
        from lime.providers.openai_compat.errors import ProviderError

        self.events.emit(ev.RequestSent(self.route.slug, len(self.messages), len(tools or ())))
        emit = self.events.emit
        text: list[str] = []
        stream = None
        # A known key the model repeats (say, from a pasted prompt) is masked on screen too.
        shown = StreamRedactor(self.workspace.secrets)
        thought = StreamRedactor(self.workspace.secrets)  # -v and stream-json show reasoning as it comes
        try:
            stream = self.client.stream(compaction.alternating(self.messages), self.options(tools))
            with stream:
                for event in stream:
                    if isinstance(event, TextDelta):
                        text.append(event.text)
                        safe = shown.feed(event.text)
                        if safe:
                            emit(ev.TextDelta(safe))
                    elif isinstance(event, ReasoningDelta):
                        safe = thought.feed(event.text)
                        if safe:
                            emit(ev.ReasoningDelta(safe))
                completion: Completion = stream.completion
        except KeyboardInterrupt:
            if stream is not None:
                with contextlib.suppress(Exception):
                    stream.close()
            emit(ev.AnswerEnded())
            partial = "".join(text)
            if partial:
                emit(ev.MessageAdded({"role": "assistant", "content": partial}, interrupted=True))
            raise Cancelled(partial) from None
        except ProviderError as exc:
            thought.finish()
            rest = shown.finish()
            if rest:
                emit(ev.TextDelta(rest))
            emit(ev.AnswerEnded())
            partial_c = getattr(exc, "partial", None)
            partial = getattr(partial_c, "text", "") or "".join(text)
            if partial:
                emit(ev.MessageAdded({"role": "assistant", "content": partial}, interrupted=True))
            raise
        rest = thought.finish()
        if rest:
            emit(ev.ReasoningDelta(rest))
        rest = shown.finish()
        if rest:
            emit(ev.TextDelta(rest))
        emit(ev.AnswerEnded())
        return completion

    # -- tools ---------------------------------------------------------------------------

    def _run_tools(self, calls: list[Any], result: TurnResult, *, run: bool, offered: bool) -> bool:
        """Answer every call (the executor decides and runs them); True when a tool ended the turn."""
        interrupted = False
        try:
            outcomes = self.executor.run_calls(calls, run=run, offered=offered)
        except Interrupted as exc:
            outcomes, interrupted = exc.outcomes, True
        vision = self.route.capabilities.vision
        images: list[dict[str, Any]] = []
        for o in outcomes:
            self._add_usage(result, o.result.usage)
            content = o.result.content
            if o.result.images and not vision:
                n = len(o.result.images)
                content += f"\n[{n} image{'s' if n != 1 else ''} not shown: {self.route.slug} does not take images]"
            elif o.result.images:
                images += [{"type": "image_url", "image_url": {"url": f"data:{i.media_type};base64,{i.data}"}}
                           for i in o.result.images]
            self.events.emit(ev.MessageAdded({"role": "tool", "tool_call_id": o.call.id, "content": content}))
            result.tool_calls.append(ToolRecord(o.call.id, o.call.name, o.args if o.args is not None else o.call.arguments,
                                                o.result.status, content))
        if images:
            # Tool messages carry text only: a vision model sees a tool's images in a user message
            # right after the results (a model without vision read the note in the result's text).
            ids = ", ".join(dict.fromkeys(o.call.id for o in outcomes if o.result.images))
            self.events.emit(ev.MessageAdded({"role": "user", "content": [
                {"type": "text", "text": f"Images returned by the tool calls {ids}:"}, *images[:8]]}))
        if interrupted:
            raise Cancelled("")
        return any(o.result.stop for o in outcomes)

    # -- compaction ----------------------------------------------------------------------

    def compact(self, reason: str) -> bool:
        """Make the conversation smaller; True when the history was shortened.

        Old tool results are shortened first (no request needed). Then the older part is summarised,
        unless it is too short for a summary to save anything; a summary that is not shorter than
        what it replaces is discarded.
        """
        self.events.emit(ev.CompactionStarted(reason))
        try:
            changed = self._compact(reason)
        except BaseException:
            self.events.emit(ev.CompactionEnded(reason, False))
            raise
        self.events.emit(ev.CompactionEnded(reason, changed))
        return changed

    def _compact(self, reason: str) -> bool:
        window = self.window
        threshold = min(self.threshold(), window)
        keep_budget = max(64, threshold * 3 // 10)
        before = self.estimated_input()
        shrunk_results = False
        if reason == "manual":
            keep_budget = max(64, keep_budget // 3)
        elif self._shrink_tool_results(threshold * 7 // 10, before, reason):
            shrunk_results = True
            if not self.needs_compaction(self.tool_specs()):
                return True
            before = self.estimated_input()
        split = compaction.choose_split(self.messages, keep_budget, count_text)
        head = compaction.head_length(self.messages)
        older = self.messages[head:split.cut] if split else []
        cap = compaction.worth_summarising(older, count_text) if split else 0
        if split is None or not cap:
            if reason == "manual":
                self.notify("nothing to compact: the conversation is already shorter than a summary of it")
            return shrunk_results
        text = self._summarise(older, cap, window, reason)
        if text is None:
            return shrunk_results
        kept = self.messages[split.cut:]
        shrunk = compaction.shrink_tool_results(kept, keep_budget * 2, count_text)
        if shrunk is not kept and shrunk != kept:
            # The tail itself had to shrink: record it as summary + new messages so a resume sees the same.
            self.events.emit(ev.HistoryRewritten(summary=compaction.summary_message(text), keep_last=0, reason=reason))
            for m in shrunk:
                self.events.emit(ev.MessageAdded(m))
        else:
            self.events.emit(ev.HistoryRewritten(summary=compaction.summary_message(text), keep_last=split.keep_last,
                                                 reason=reason))
        self.anchor = None
        self._compacted_at = len(self.messages)
        after = self.estimated_input()
        self.notify(f"compacted: ~{before} → ~{after} tokens")
        return True

    def _shrink_tool_results(self, target: int, before: int, reason: str) -> bool:
        """Shorten old tool results toward ``target`` tokens; True when anything changed."""
        head = compaction.head_length(self.messages)
        body = self.messages[head:]
        shrunk = compaction.shrink_tool_results(body, target, count_text)
        if shrunk is body:
            return False
        self.events.emit(ev.HistoryRewritten(messages=self.messages[:head] + shrunk, reason=reason))
        self.anchor = None
        self._compacted_at = len(self.messages)
        self.notify(f"shortened old tool results ({reason}): ~{before} → ~{self.estimated_input()} tokens")
        return True

    def _summarise(self, older: list[Message], cap: int, window: int, reason: str) -> str | None:
        """A summary of ``older`` shorter than it, or None (nothing changes) when the model's is not."""
        from lime.providers.openai_compat.errors import ContextOverflowError

        budget, out_cap = compaction.budget_for_summary(window)
        out_cap = min(out_cap, cap)
        self.notify(f"compacting {len(older)} earlier messages ({reason})")
        summary: Completion | None = None
        for _attempt in range(3):
            request = compaction.summary_request(older, budget, count_text)
            try:
                summary = self.client.complete(request, RequestOptions(max_tokens=out_cap, stream=False))
                break
            except ContextOverflowError as exc:
                n_ctx = exc.n_ctx
                if isinstance(n_ctx, int) and 0 < n_ctx < window:
                    # The server told us its real window: size the summary request for it.
                    self._window_cap = window = n_ctx
                    budget, out_cap = compaction.budget_for_summary(n_ctx)
                    out_cap = min(out_cap, cap)
                else:
                    budget //= 2
        if summary is None:
            raise LimeError("compaction failed: even the trimmed summary request is over the model's context window")
        if summary.usage:
            self.events.emit(ev.UsageSpent(summary.usage.to_json()))
        text = summary.text.strip()
        if not text:
            raise LimeError("compaction failed: the model returned an empty summary")
        replaced = sum(compaction.message_tokens(m, count_text) for m in older)
        if compaction.message_tokens(compaction.summary_message(text), count_text) >= replaced:
            self.notify("compaction discarded: the summary was not shorter than what it would replace")
            return None
        return text

    def check_fits(self, tools: list[ToolSpec] | None) -> None:
        """Never send a request estimated to exceed the window: a clear error instead."""
        window = self.window
        if byte_bound(self.messages, tools) < window:
            return  # a token is never shorter than a byte
        size = self.estimated_input(tools)
        if size >= window:
            from lime.tokens import estimate_messages

            # A ratio learned on other text can overstate this one (digits, say): refuse only when the
            # tokenizer's own count agrees; a near miss is for the server to judge.
            if int(estimate_messages(self.messages, tools)) < window:
                return
            raise LimeError(
                f"the conversation (~{size:,} tokens) does not fit the context window of {self.route.slug} "
                f"({window:,} tokens), even after compaction; nothing was sent (start a new conversation, "
                "or choose a model with a larger window)")


def result_json(result: TurnResult, route: Route, session: Session | None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "text": result.text,
        "tool_calls": [t.to_json() for t in result.tool_calls],
        "usage": result.usage.to_json(),
        "model": route.slug,
        "route": {"service": route.service, "base_url": route.base_url, "wire_model": route.wire_model},
        "finish_reason": result.finish_reason,
        "requests": result.requests,
    }
    from lime.catalog.prices import cost_json

    u = result.usage
    data["cost"] = cost_json(route.entry, u.to_json())
    if result.reasoning:
        data["reasoning"] = result.reasoning
    if result.stopped:
        data["stopped"] = result.stopped
    if result.compactions:
        data["compactions"] = result.compactions
    if session is not None:
        data["session"] = session.id
    return data


def dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False)
