"""How a conversation looks: subscribers to the agent's event stream (one-shot text, JSON,
stream-json and the REPL's terminal), which also answer the executor's approval questions; the
prompts they show are in ``approval``. Answers go to stdout, activity and notices to stderr (the
REPL's terminal shows both); untrusted text is sanitised on a terminal."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

from lime.runtime import events as ev
from lime.textsafe import StreamSanitizer, sanitize

if TYPE_CHECKING:
    from lime.providers.openai_compat.types import ToolCall
    from lime.runtime.executor import Approval, PlanReview
    from lime.runtime.tools import Tool, ToolResult


def describe_call(name: str, args: dict[str, Any] | None) -> str:
    from lime.runtime.tools import canonical

    name = canonical(name)
    if not args:
        return name
    # A model may send any JSON type for any argument: show each as text, never trip on it.
    args = {k: v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)[:200] for k, v in args.items()}
    if name == "bash":
        return f"bash: {args.get('command', '')}"
    if name == "read_file":
        rng = ""
        if args.get("start_line") or args.get("end_line"):
            rng = f" lines {args.get('start_line', 1)}-{args.get('end_line', 'end')}"
        return f"read_file {args.get('path', '')}{rng}"
    if name in ("write_file", "edit_file"):
        return f"{name} {args.get('path', '')}"
    if name == "exit_plan_mode":
        return "exit_plan_mode: presenting the plan"
    if name == "grep_search":
        return f"grep_search {args.get('pattern', '')!r} in {args.get('path') or '.'}"
    if name == "glob_search":
        return f"glob_search {args.get('path') or '.'}{' ' + args['pattern'] if args.get('pattern') else ''}"
    if name == "agent":
        prompt = " ".join(str(args.get("prompt", "")).split())
        return f"agent {args.get('type', '')}: {prompt[:100]}{'…' if len(prompt) > 100 else ''}"
    return f"{name} {json.dumps(args, ensure_ascii=False)[:200]}"


def result_summary(result: ToolResult) -> str:
    first = result.content.strip().splitlines()[0] if result.content.strip() else "(no output)"
    lines = result.content.count("\n") + 1
    more = f" (+{lines - 1} lines)" if lines > 1 else ""
    return (first[:160] + more) if result.status == "ok" else first[:300]


class PlainUI(ev.Listener):
    """One-shot text output: answer to stdout, activity to stderr."""

    def __init__(self, *, markdown: bool, verbose: bool, console: Any = None) -> None:
        """``console``: one rich console for answer and activity (the REPL's terminal); else made here."""
        self.verbose = verbose
        self.markdown = markdown
        self.err = sys.stderr
        self.stream: Any = None
        self._status: Any = None
        self._wrote_text = False
        self._safe = StreamSanitizer()
        self._safe_err = StreamSanitizer()
        self._err_console: Any = console
        # The plan a one-shot run in plan mode ends with (shown by the caller).
        self.plan: str | None = None
        self._progress_at: dict[str, float] = {}  # when each running call last showed its progress
        if console is not None:
            self.console = console
        elif markdown:
            from rich.console import Console

            self.console = Console(highlight=False)
            self._err_console = Console(stderr=True, highlight=False)

    def _stream(self) -> Any:
        if self.stream is None:
            from lime.cli.render import MarkdownStream, PlainStream

            self.stream = MarkdownStream(self.console) if self.markdown else PlainStream(sys.stdout)
        return self.stream

    def waiting(self) -> None:
        if self.markdown and self._err_console is not None and self._status is None:
            self._status = self._err_console.status("thinking…", spinner="dots")
            self._status.start()

    def _stop_spinner(self) -> None:
        if self._status is not None:
            self._status.stop()
            self._status = None

    def text(self, delta: str) -> None:
        self._stop_spinner()
        if self._wrote_text and self.stream is None:
            sys.stdout.write("\n")
        # On a terminal the answer is shown, so it is made safe to show; in a pipe it is data.
        self._stream().feed(self._safe.feed(delta) if self.markdown else delta)

    def reasoning(self, delta: str) -> None:
        self._stop_spinner()
        if self.verbose:
            self.err.write(self._safe_err.feed(delta))
            self.err.flush()

    def answer_done(self) -> None:
        self._stop_spinner()
        if self.stream is not None:
            if self.markdown:
                self.stream.feed(self._safe.flush())
            self.stream.finish()
            self.stream = None
            self._wrote_text = True

    def tool_start(self, call: ToolCall, args: dict[str, Any] | None) -> None:
        self.err.write(f"● {sanitize(describe_call(call.name, args))}\n")
        self.err.flush()

    def tool_done(self, call: ToolCall, result: ToolResult) -> None:
        self.err.write(f"  ⎿ {sanitize(result_summary(result))}\n")
        self.err.flush()

    def ask(self, tool: Tool, args: dict[str, Any], why: str = "") -> Approval | None:
        from lime.cli.approval import ask_on_terminal

        return ask_on_terminal(tool, args, why, self.err)

    def review_plan(self, plan: str, path: str) -> PlanReview | None:
        from lime.cli.approval import review_on_terminal

        self._stop_spinner()
        return review_on_terminal(plan, path, self.err)

    def other(self, event: ev.Event) -> None:
        if isinstance(event, ev.PlanPresented) and event.decision == "none":
            self.plan = event.plan
        elif isinstance(event, ev.ToolProgress):
            self.progress(event.call_id, event.text)

    def progress(self, call_id: str, text: str) -> None:
        """A running tool's status line, at most one a second per call (servers may send thousands)."""
        import time

        now = time.monotonic()
        if now - self._progress_at.get(call_id, -1.0) < 1.0:
            return
        self._progress_at[call_id] = now
        self._stop_spinner()
        self.err.write(f"  ⋯ {sanitize(text)[:200]}\n")
        self.err.flush()

    def notice(self, text: str) -> None:
        self._stop_spinner()
        self.err.write(f"lime: {sanitize(text)}\n")
        self.err.flush()


class CollectUI(PlainUI):
    """``--output-format json`` (and schema mode): nothing streams to stdout."""

    def __init__(self, *, verbose: bool) -> None:
        super().__init__(markdown=False, verbose=verbose)

    def text(self, delta: str) -> None:
        pass

    def answer_done(self) -> None:
        pass

    def tool_start(self, call: ToolCall, args: dict[str, Any] | None) -> None:
        if self.verbose:
            super().tool_start(call, args)

    def tool_done(self, call: ToolCall, result: ToolResult) -> None:
        if self.verbose:
            super().tool_done(call, result)


class StreamJsonUI(CollectUI):
    """``--output-format stream-json``: one JSON event per line on stdout (known keys masked)."""

    secrets: list[str] = []

    def emit(self, event: dict[str, Any]) -> None:
        if self.secrets:
            from lime.auth.masking import redact_json

            event = redact_json(event, self.secrets)  # type: ignore[assignment]
        sys.stdout.write(json.dumps(event, ensure_ascii=False) + "\n")
        sys.stdout.flush()

    def text(self, delta: str) -> None:
        self.emit({"type": "text", "text": delta})

    def reasoning(self, delta: str) -> None:
        self.emit({"type": "reasoning", "text": delta})

    def tool_start(self, call: ToolCall, args: dict[str, Any] | None) -> None:
        self.emit({"type": "tool_call", "id": call.id, "name": call.name,
                   "arguments": args if args is not None else call.arguments})

    def tool_done(self, call: ToolCall, result: ToolResult) -> None:
        self.emit({"type": "tool_result", "id": call.id, "name": call.name, "status": result.status,
                   "result": result.content[:4000]})

    def notice(self, text: str) -> None:
        self.emit({"type": "notice", "text": text})
        super().notice(text)

    def other(self, event: ev.Event) -> None:
        super().other(event)
        if isinstance(event, ev.PlanPresented):
            self.emit({"type": "plan", "plan": event.plan, "decision": event.decision})
        elif isinstance(event, ev.ModeChanged):
            self.emit({"type": "mode", "mode": event.mode})

    def progress(self, call_id: str, text: str) -> None:
        self.emit({"type": "tool_progress", "id": call_id, "text": text})


class TerminalUI(PlainUI):
    """The REPL's view: spinner, Markdown stream, dim reasoning, tool lines, y/n/always prompts."""

    def __init__(self, console: Any, *, verbose: bool) -> None:
        super().__init__(markdown=True, verbose=verbose, console=console)
        self._in_reasoning = False
        # Set by the REPL while an answer streams (see cli/turnkeys.py).
        self.keys: Any = None

    def handle(self, event: ev.Event) -> None:
        if self.keys is None:
            super().handle(event)
            return
        with self.keys.drawing():  # a Ctrl-C waits until the screen is consistent
            super().handle(event)

    def _prompting(self) -> Any:
        import contextlib

        return self.keys.paused() if self.keys is not None else contextlib.nullcontext()

    def _stream(self) -> Any:
        if self.stream is None:
            from lime.cli.render import MarkdownStream

            self.stream = MarkdownStream(self.console)
        return self.stream

    def text(self, delta: str) -> None:
        self._stop_spinner()
        if self._in_reasoning:
            self.console.print()
            self._in_reasoning = False
        self._stream().feed(self._safe.feed(delta))

    def reasoning(self, delta: str) -> None:
        self._stop_spinner()
        self._in_reasoning = True
        self.console.print(self._safe_err.feed(delta), style="dim italic", end="", markup=False, highlight=False)

    def answer_done(self) -> None:
        self._stop_spinner()
        if self._in_reasoning:
            self.console.print()
            self._in_reasoning = False
        if self.stream is not None:
            self.stream.feed(self._safe.flush())
            self.stream.finish()
            self.stream = None

    def tool_start(self, call: ToolCall, args: dict[str, Any] | None) -> None:
        self._stop_spinner()
        self.console.print(f"[cyan]●[/cyan] {esc(describe_call(call.name, args))}", highlight=False)

    def tool_done(self, call: ToolCall, result: ToolResult) -> None:
        style = "dim" if result.status == "ok" else "red"
        self.console.print(f"  ⎿ {esc(result_summary(result))}", style=style, highlight=False)

    def ask(self, tool: Tool, args: dict[str, Any], why: str = "") -> Approval | None:
        from lime.cli.approval import ask_on_terminal

        self._stop_spinner()
        with self._prompting():
            return ask_on_terminal(tool, args, why, sys.stdout)

    def review_plan(self, plan: str, path: str) -> PlanReview | None:
        from lime.cli.approval import review_on_terminal

        self._stop_spinner()
        with self._prompting():
            return review_on_terminal(plan, path, sys.stdout)

    def notice(self, text: str) -> None:
        self._stop_spinner()
        self.console.print(f"[yellow]lime:[/yellow] {esc(text)}", highlight=False)


def esc(text: str) -> str:
    """Untrusted text for a rich console: controls shown visibly, markup escaped."""
    from rich.markup import escape

    return escape(sanitize(text))
