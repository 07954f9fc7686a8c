"""Chat entry point: one-shot (``-p`` and/or piped stdin) and the REPL (``lime`` alone on a terminal).

One-shot writes the answer to stdout — raw text when stdout is not a terminal, rendered Markdown
when it is — and everything else (tool activity, notices) to stderr, so ``lime -p ... > file`` and
pipes get only the answer. ``--output-format json`` prints one JSON object, ``stream-json`` one
JSON event per line.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lime.errors import ConfigError, LimeError, UsageError

if TYPE_CHECKING:
    from lime.catalog.routing import Route
    from lime.providers.openai_compat.types import ToolCall
    from lime.runtime.agent import Agent, Approval, Settings
    from lime.runtime.permissions import Policy
    from lime.runtime.session import Session
    from lime.runtime.tools import Tool, ToolResult, Workspace

VERBOSITY_LEVELS = ("low", "medium", "high")


def run_chat(args: argparse.Namespace) -> int:
    prompt = _gather_prompt(args)
    if prompt is None:
        if args.output_format in ("json", "stream-json"):
            raise UsageError("--output-format json/stream-json needs a prompt (-p PROMPT or piped stdin)")
        from lime.cli.repl import run_repl

        return run_repl(args)
    return run_once(args, prompt)


def _gather_prompt(args: argparse.Namespace) -> str | None:
    """-p text, with piped stdin appended; stdin alone when piped with no -p; None for the REPL."""
    piped: str | None = None
    if sys.stdin is None:  # started with standard input closed: only -p can give a prompt
        if args.prompt is None:
            raise UsageError("no prompt: standard input is closed (give -p PROMPT)")
    elif not sys.stdin.isatty():
        try:
            piped = sys.stdin.read()
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"cannot read standard input: {exc}") from None
    if args.prompt is not None:
        if not args.prompt.strip() and not (piped and piped.strip()):
            raise UsageError("empty prompt")
        flag: str = args.prompt
        if piped and piped.strip():
            return f"{flag}\n\n{piped.rstrip()}" if flag.strip() else piped.rstrip()
        return flag
    if piped is not None:
        if not piped.strip():
            raise UsageError("no prompt: standard input was empty (give -p PROMPT or pipe some text)")
        return piped.rstrip()
    return None


# -- shared set-up (REPL and one-shot) ------------------------------------------------------------


@dataclass
class Setup:
    route: Route
    session: Session
    settings: Settings
    resumed: bool
    policy: Policy
    workspace: Workspace


def activate(route: Route) -> Route:
    """Start (or reuse) lime's own local server for routes that need it, then check the key."""
    if route.managed_local:
        try:
            from lime.local.connect import activate as start_local
        except ImportError:
            raise LimeError(
                f"model {route.slug} runs on lime's local server, which is not available here; install the "
                "extra (pip install 'lime[local]') or pick another model with --model after 'lime login ...'"
            ) from None
        route = start_local(route)
    route.require_key()
    return route


def check_reasoning(route: Route, level: str | None) -> str | None:
    if level is None or level.lower() in ("off", "default"):
        return None
    level = level.lower()
    entry = route.entry
    if not entry.allows_reasoning:
        raise UsageError(f"model {entry.slug} does not take a reasoning level (its param_preset is "
                         f"{entry.param_preset!r}); choose a model whose param preset includes reasoning")
    levels = route.capabilities.reasoning_levels
    if level not in levels:
        raise UsageError(f"reasoning level {level!r} is not accepted by {entry.slug} (choose from {', '.join(levels)})")
    return level


def check_verbosity(route: Route, level: str | None) -> str | None:
    if level is None or level.lower() in ("off", "default"):
        return None
    level = level.lower()
    if level not in VERBOSITY_LEVELS:
        raise UsageError(f"verbosity must be one of {', '.join(VERBOSITY_LEVELS)}, got {level!r}")
    if not route.entry.allows_verbosity:
        raise UsageError(f"model {route.slug} does not take a verbosity setting (its param_preset is "
                         f"{route.entry.param_preset!r})")
    return level


def setup(args: argparse.Namespace, *, say: Any) -> Setup:
    from lime import config
    from lime.catalog.routing import resolve_route, select_model
    from lime.runtime import session as sessions
    from lime.runtime.agent import Settings
    from lime.runtime.permissions import Policy
    from lime.runtime.tools import Workspace

    config.check_env()
    if args.continue_session and args.resume:
        raise UsageError("use either --continue or --resume, not both")
    if args.max_turns is not None and args.max_turns < 1:
        raise UsageError("--max-turns must be at least 1")
    if args.max_tokens is not None and args.max_tokens < 1:
        raise UsageError("--max-tokens must be at least 1")
    # Bad tool flags fail before anything starts (a local server, a session file).
    policy = Policy.from_args(args.permission_mode, args.dangerously_skip_permissions, args.allowed_tools)
    workspace = Workspace.create(add_dirs=args.add_dirs)
    resumed = bool(args.continue_session or args.resume)
    if resumed:
        ref = "latest" if args.continue_session else args.resume
        session = sessions.Session.load(sessions.find(ref))
        session.claim()
        for w in session.warnings:
            say(f"warning: {w}")
        if args.system:
            say("note: --system is ignored when resuming a session")
        slug = args.model or session.model
        if not slug:
            slug = select_model(None).slug
    else:
        choice = select_model(args.model)
        slug = choice.slug
        if choice.reason == "offline default":
            say(f"no model chosen and no API key configured: using the local model {slug} (offline)")
        session = sessions.Session.new(slug, system=args.system)
    route = resolve_route(slug)
    try:
        route = activate(route)
    except ConfigError:
        if resumed or choice.reason != "built-in default" or route.credential.source != "missing":
            raise
        from lime.local.paths import INSTALL_HINT

        # Nothing configured at all: name both ways forward, not only the default model's key.
        raise ConfigError(f"no model chosen and no API key configured (the default {slug} needs one); "
                          f"{INSTALL_HINT}") from None
    if resumed and route.slug != session.model:
        session.set_model(route.slug)
    reasoning = args.reasoning if args.reasoning is not None else session.settings.get("reasoning")
    verbosity = args.verbosity if args.verbosity is not None else session.settings.get("verbosity")
    settings = Settings(
        max_tokens=args.max_tokens,
        reasoning=check_reasoning(route, reasoning) if args.reasoning is not None else _soft(check_reasoning, route, reasoning),
        verbosity=check_verbosity(route, verbosity) if args.verbosity is not None else _soft(check_verbosity, route, verbosity),
        tools_enabled=not args.no_tools,
        max_turns=args.max_turns or 25,
        verbose=bool(args.verbose),
    )
    if not args.no_tools and not route.capabilities.tools and args.verbose:
        say(f"note: tools are not offered: {route.slug} on {route.service} does not declare function calling")
    workspace.secrets = known_secrets(route)
    return Setup(route, session, settings, resumed, policy, workspace)


def known_secrets(route: Route) -> list[str]:
    """Every API key lime knows of: tool outputs are masked for them before the model or a session sees them."""
    from lime.auth.resolve import known_keys

    return sorted({*known_keys(), *([route.api_key] if route.api_key else [])})


def _soft(check: Any, route: Route, level: str | None) -> str | None:
    """A stored setting that the (new) model does not take is dropped, not fatal."""
    try:
        result: str | None = check(route, level)
        return result
    except UsageError:
        return None


def make_agent(args: argparse.Namespace, s: Setup, ui: Any) -> Agent:
    from lime.runtime.agent import Agent

    return Agent(s.route, s.session, policy=s.policy, workspace=s.workspace, settings=s.settings, ui=ui)


# -- user interfaces for the agent loop -----------------------------------------------------------


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
    if name == "grep_search":
        return f"grep_search {args.get('pattern', '')!r} in {args.get('path') or '.'}"
    if name == "glob_search":
        return f"glob_search {args.get('path') or '.'}{' ' + args['pattern'] if args.get('pattern') else ''}"
    return f"{name} {json.dumps(args, ensure_ascii=False)[:200]}"


def result_summary(result: ToolResult) -> str:
    first = result.content.strip().splitlines()[0] if result.content.strip() else "(no output)"
    lines = result.content.count("\n") + 1
    more = f" (+{lines - 1} lines)" if lines > 1 else ""
    return (first[:160] + more) if result.status == "ok" else first[:300]


def ask_on_terminal(tool: Tool, args: dict[str, Any], err: Any) -> Approval | None:
    """Ask y/n/always on the terminal; None when there is no terminal to ask on."""
    if sys.stdin is None or not (sys.stdin.isatty() and err.isatty()):
        return None
    detail = describe_call(tool.name, args)
    if tool.name == "edit_file":
        old, new = str(args.get("old_string", "")), str(args.get("new_string", ""))
        detail += "\n" + "\n".join(f"  - {ln}" for ln in old.splitlines()[:12])
        detail += "\n" + "\n".join(f"  + {ln}" for ln in new.splitlines()[:12])
    elif tool.name == "write_file":
        content = str(args.get("content", ""))
        detail += f" ({content.count(chr(10)) + 1} lines)"
    while True:
        err.write(f"\nlime wants to run: {detail}\nAllow? [y]es / [n]o / [a]lways for {tool.name}: ")
        err.flush()
        try:
            answer = sys.stdin.readline()
        except KeyboardInterrupt:
            err.write("\n")
            return "no"
        if not answer:
            return "no"
        a = answer.strip().lower()
        if a in ("y", "yes"):
            return "yes"
        if a in ("a", "always"):
            return "always"
        if a in ("n", "no", ""):
            return "no"


class PlainUI:
    """One-shot text output: answer to stdout, activity to stderr."""

    def __init__(self, *, markdown: bool, verbose: bool, console: Any = None) -> None:
        """``console``: one rich console for answer and activity (the REPL's terminal); else made here."""
        self.verbose = verbose
        self.markdown = markdown
        self.err = sys.stderr
        self.stream: Any = None
        self._status: Any = None
        self._wrote_text = False
        self._err_console: Any = console
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
        self._stream().feed(delta)

    def reasoning(self, delta: str) -> None:
        self._stop_spinner()
        if self.verbose:
            self.err.write(delta)
            self.err.flush()

    def answer_done(self) -> None:
        self._stop_spinner()
        if self.stream is not None:
            self.stream.finish()
            self.stream = None
            self._wrote_text = True

    def tool_start(self, call: ToolCall, args: dict[str, Any] | None) -> None:
        self.err.write(f"● {describe_call(call.name, args)}\n")
        self.err.flush()

    def tool_done(self, call: ToolCall, result: ToolResult) -> None:
        self.err.write(f"  ⎿ {result_summary(result)}\n")
        self.err.flush()

    def ask(self, tool: Tool, args: dict[str, Any]) -> Approval | None:
        return ask_on_terminal(tool, args, self.err)

    def notice(self, text: str) -> None:
        self._stop_spinner()
        self.err.write(f"lime: {text}\n")
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
    """``--output-format stream-json``: one JSON event per line on stdout."""

    def emit(self, event: dict[str, Any]) -> None:
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


# -- one-shot ------------------------------------------------------------------------------------------


def _json_error(fmt: str, exc: LimeError, **extra: Any) -> None:
    """Scripts reading JSON get the failure on stdout too (the one-line error still goes to stderr)."""
    if fmt in ("json", "stream-json"):
        err = {"error": str(exc), "kind": getattr(exc, "kind", "error"), **extra}
        print(json.dumps(err if fmt == "json" else {"type": "error", **err}, ensure_ascii=False))


def run_once(args: argparse.Namespace, prompt: str) -> int:
    from lime.runtime import schema as schemas

    fmt = args.output_format or "text"

    def say(text: str) -> None:
        print(f"lime: {text}", file=sys.stderr)

    try:
        schema = schemas.load(args.output_schema) if args.output_schema else None
        s = setup(args, say=say)
    except LimeError as exc:
        _json_error(fmt, exc)
        raise
    return _run_once(args, prompt, s, schema, fmt, say)


def _run_once(args: argparse.Namespace, prompt: str, s: Setup, schema: dict[str, Any] | None, fmt: str,
              say: Any) -> int:
    from lime.runtime import schema as schemas
    from lime.runtime.agent import Cancelled, result_json

    ui: PlainUI
    if fmt == "json" or (schema is not None and fmt == "text"):
        ui = CollectUI(verbose=bool(args.verbose))
    elif fmt == "stream-json":
        ui = StreamJsonUI(verbose=bool(args.verbose))
        ui.emit({"type": "start", "model": s.route.slug, "session": s.session.id,
                 "route": {"service": s.route.service, "base_url": s.route.base_url}})
    else:
        ui = PlainUI(markdown=sys.stdout.isatty(), verbose=bool(args.verbose))
    if schema is not None:
        if s.route.capabilities.response_format:
            s.settings.response_format = schemas.response_format(schema)
        else:
            prompt = f"{prompt}\n\n{schemas.instruction(schema)}"
    agent = make_agent(args, s, ui)
    try:
        result = agent.run(prompt)
        structured: Any = None
        if schema is not None and result.stopped is None:
            structured, result = _enforce_schema(agent, schema, result)
    except Cancelled:
        say("cancelled")
        return 130
    except LimeError as exc:
        _json_error(fmt, exc, model=s.route.slug, session=s.session.id)
        raise
    finally:
        agent.close()
        s.session.close()
    data = result_json(result, s.route, s.session)
    if schema is not None:
        data["structured"] = structured
    if fmt == "json":
        print(json.dumps(data, ensure_ascii=False, indent=2))
    elif fmt == "stream-json":
        assert isinstance(ui, StreamJsonUI)
        ui.emit({"type": "result", **data})
    elif schema is not None:
        print(json.dumps(structured, ensure_ascii=False, indent=2))
    if args.verbose:
        u = result.usage
        say(f"usage: {u.prompt_tokens} in, {u.completion_tokens} out{' (estimated)' if u.estimated else ''}; "
            f"session {s.session.id}")
    if result.stopped == "max_turns":
        raise LimeError(f"stopped after {result.requests} model requests (--max-turns {s.settings.max_turns}) "
                        "before the model finished")
    return 0


def _enforce_schema(agent: Agent, schema: dict[str, Any], result: Any) -> tuple[Any, Any]:
    from lime.runtime import schema as schemas

    for attempt in range(2):
        try:
            value = schemas.extract_json(result.text)
            problems = schemas.errors(value, schema)
        except ValueError as exc:
            problems = [str(exc)]
        if not problems:
            return value, result
        if attempt == 1:
            break
        agent.ui.notice("the answer does not match the output schema; asking the model to repair it")
        repair = ("Your previous reply does not conform to the required JSON Schema: " + "; ".join(problems[:8])
                  + "\nReply again with only the corrected JSON value.")
        result = agent.run(repair)
    raise LimeError("the answer does not match --output-schema after one repair attempt: " + "; ".join(problems[:3]))
