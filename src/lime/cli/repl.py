"""The interactive REPL: line editing with persistent history, streamed Markdown answers, slash commands.

Enter sends; Alt-Enter (or Esc then Enter) inserts a newline, and pasted multi-line text stays one
message. Shift+Tab cycles the permission mode (default → acceptEdits → plan). Ctrl-C during an
answer (or Esc) cancels that answer and keeps the session; Ctrl-C at the prompt clears the line;
Ctrl-D exits. ``!COMMAND`` runs a shell line, ``@path`` attaches a file.
"""

from __future__ import annotations

import argparse
import os
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lime.cli.setup import endpoint, setup
from lime.cli.ui import TerminalUI, esc
from lime.errors import LimeError

if TYPE_CHECKING:
    from lime.runtime.agent import Agent
    from lime.runtime.setup import Ready

HELP = """\
/model [SLUG]        list the catalog, or switch to SLUG
/reasoning [LEVEL]   show or set the reasoning effort (off to unset)
/verbosity [LEVEL]   show or set answer verbosity: low, medium, high (off to unset)
/status *            model, route, capabilities and token counts of this session
/permissions [MODE]  show the permission mode and rules, or switch mode (default, plan,
                     acceptEdits, dontAsk, bypassPermissions)
/sandbox             the shell sandbox's layers and a self-test of each
/plan                plan mode on or off (read-only research that ends in a plan you approve)
/mcp                 the MCP servers of this session: status, transport, tool count
/compact *           summarise older turns now to free context
/agents              the sub-agents the agent tool can start here
/clear               start over in this session (keeps the system prompt)
/resume [latest|ID]  pick a saved session to continue (type to filter), or open one directly
/new                 start a new session (this one stays saved)
/rename TITLE *      name this session (the first prompt names it until then)
/fork [TITLE]        continue in a new session with this history; this one stays as it was
/rewind [N]          go back to before an earlier prompt (Esc Esc too), optionally restoring the
                     files lime's tools changed since
/cost *              what this session's tokens cost, each request at its model's prices
/memory *            the instruction files in the system prompt (AGENTS.md...) and their sizes
/config *            the merged settings, each value with the file it came from
/init                write AGENTS.md, .lime/settings.json and .gitignore entries here
/commands            your custom commands (/NAME ARGS runs one; lime command create NAME)
/skills              the skills the model can load (/NAME asks it to load one)
/plugin [list|enable ID|disable ID]  installed plugins, and switching them
/help *              this list
/exit                leave (Ctrl-D works too)
* also runs without a REPL (as do custom commands): lime --resume REF /status /compact ...
Enter sends, Alt-Enter adds a line, Shift+Tab cycles default → acceptEdits → plan;
Ctrl-C cancels an answer."""

# Commands that make sense on a saved session without a REPL (``lime --resume REF /CMD``).
RESUMABLE = {"status", "compact", "rename", "memory", "config", "help", "cost"}


def run_repl(args: argparse.Namespace) -> int:
    from rich.console import Console

    console = Console(highlight=False)
    ui = TerminalUI(console, verbose=bool(args.verbose))
    ready = setup(args, ui=ui, say=lambda t: console.print(f"[yellow]lime:[/yellow] {esc(t)}"))
    if args.output_schema:
        console.print("[yellow]lime:[/yellow] --output-schema applies to one-shot prompts (-p); ignored here")
    if getattr(args, "images", None):
        console.print("[yellow]lime:[/yellow] --image applies to one-shot prompts (-p); mention @FILE here")
    repl = Repl(console, ready, args)
    repl.ui = ui
    try:
        return repl.loop()
    finally:
        ready.agent.end()


def run_commands(args: argparse.Namespace, lines: list[str]) -> int:
    """``lime --resume REF /CMD...``: run resume-capable slash commands on a saved session, then exit."""
    from rich.console import Console

    from lime.cli.ui import PlainUI

    console = Console(highlight=False)
    ready = setup(args, ui=PlainUI(markdown=False, verbose=bool(args.verbose)), say=lambda t: console.print(
        f"lime: {esc(t)}", highlight=False))
    repl = Repl(console, ready, args)
    try:
        for line in lines:
            repl.command(line, only=RESUMABLE)
    finally:
        ready.agent.end()
    return 0


class Repl:
    def __init__(self, console: Any, ready: Ready, args: argparse.Namespace) -> None:
        self.console = console
        self.s = ready
        self.agent: Agent = ready.agent
        self.endpoint = endpoint(self.agent.notify)
        self.args = args
        self.sessions_dir = ready.session.path.parent
        self.ui: Any = None
        # Text to start the next prompt line with (a rewound prompt, to edit and send again).
        self.next_default = ""
        # ``!command`` lines (with their output) waiting to go with the next prompt.
        self.shell_context: list[str] = []
        # The mode /plan returns to.
        self._before_plan = "default"
        # Loading the tokenizer takes a noticeable moment: do it while the user types the first line.
        self._warm = threading.Thread(target=_warm_tokenizer, daemon=True)
        self._warm.start()

    def banner(self) -> None:
        r = self.agent.route
        where = f"{r.service} · {r.base_url or 'local'}"
        self.console.print(f"[bold]lime[/bold] · model [bold]{esc(r.slug)}[/bold] ({esc(where)})", highlight=False)
        if self.s.resumed:
            n = sum(1 for m in self.s.session.messages if m.get("role") in ("user", "assistant"))
            self.console.print(f"resumed session {self.s.session.id} ({n} messages)", style="dim")
            self.show_last_exchange()
        if self.agent.tool_specs() is None and not self.args.no_tools:
            self.console.print(f"tools off: {r.slug} does not declare function calling", style="dim")
        self.console.print("/help for commands · Enter sends, Alt-Enter adds a line · Ctrl-D exits", style="dim")

    def show_last_exchange(self) -> None:
        msgs = [m for m in self.s.session.messages if m.get("role") in ("user", "assistant") and m.get("content")]
        for m in msgs[-2:]:
            text = str(m.get("content"))
            if len(text) > 300:
                text = text[:300] + "…"
            who = "you" if m["role"] == "user" else "lime"
            self.console.print(f"[dim]{who}:[/dim] {esc(text)}", highlight=False)

    def _prompt_session(self) -> Any:
        from prompt_toolkit import PromptSession
        from prompt_toolkit.history import FileHistory, InMemoryHistory
        from prompt_toolkit.key_binding import KeyBindings

        from lime import config

        kb = KeyBindings()

        @kb.add("escape", "enter")
        def _newline(event: Any) -> None:
            event.current_buffer.insert_text("\n")

        @kb.add("escape", "escape")
        def _rewind(event: Any) -> None:
            event.current_buffer.text = "/rewind"
            event.current_buffer.validate_and_handle()

        @kb.add("s-tab")
        def _cycle_mode(event: Any) -> None:
            from lime.runtime.plan import next_mode

            self.set_mode(next_mode(self.agent.policy.mode))
            event.app.invalidate()  # the toolbar shows the new mode

        history: Any
        try:
            config.ensure_home()
            path = config.history_path()
            # What was typed can hold anything pasted (keys too): private, like the credentials file.
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o600))
            os.chmod(path, 0o600)
            history = FileHistory(str(path))
        except (LimeError, OSError):
            history = InMemoryHistory()
        return PromptSession(history=history, key_bindings=kb, multiline=False, completer=_completer(self),
                             complete_while_typing=False,
                             prompt_continuation=lambda width, line, soft: "… ".rjust(width))

    def toolbar(self) -> Any:
        """Model and context use, computed once per prompt (not on every keystroke); the mode is
        read as drawn (Shift+Tab changes it while the prompt is up)."""
        r = self.agent.route
        context = ""
        if not self._warm.is_alive():
            try:
                used = self.agent.estimated_input(self.agent.tool_specs())
                context = f" · context ~{used:,} tokens ({100 * used / max(1, self.agent.window):.0f}%)"
            except Exception:  # a toolbar must never break the prompt
                context = ""
        return lambda: f" {r.slug}{context} · {self.agent.policy.mode}"

    def set_mode(self, mode: str) -> None:
        if mode == "plan" and self.agent.policy.mode != "plan":
            self._before_plan = self.agent.policy.mode
        self.agent.set_mode(mode)


    def loop(self) -> int:
        self.banner()
        ps = self._prompt_session()
        interrupted = False
        while True:
            try:
                bar = self.toolbar()
                text = ps.prompt("› ", bottom_toolbar=bar, default=self.next_default)
                self.next_default = ""
            except KeyboardInterrupt:
                if interrupted:
                    return 0
                interrupted = True
                self.console.print("(Ctrl-C again or Ctrl-D to exit)", style="dim")
                continue
            except EOFError:
                self.console.print()
                return 0
            interrupted = False
            text = text.strip()
            if not text:
                continue
            if text.startswith("/"):
                try:
                    if self.command(text) == "exit":
                        return 0
                except LimeError as exc:
                    self.console.print(f"[red]error:[/red] {esc(str(exc))}", highlight=False)
                continue
            if text.startswith("!"):
                from lime.cli.shell_line import run_shell_line

                self.shell_context.append(run_shell_line(self, text[1:].strip()))
                continue
            self.answer(text)

    def answer(self, text: str) -> None:
        from lime.cli.mentions import attach
        from lime.runtime.agent import Cancelled

        started = time.monotonic()
        try:
            route = self.agent.route
            attached = attach(text, self.agent.workspace, vision=route.capabilities.vision, model=route.slug,
                              window=self.agent.window)
            if attached.names:
                self.console.print(f"attached {esc(', '.join(attached.names))}", style="dim", highlight=False)
            prompt = attached.text
            if self.shell_context:
                # Shell lines typed since the last prompt go with it, as context the user gave.
                prompt = "\n\n".join([*self.shell_context, prompt])
                self.shell_context = []
            result = self._run(prompt, attached.images)
            if self.args.verbose:
                u = result.usage
                self.console.print(f"↳ {u.prompt_tokens:,} in · {u.completion_tokens:,} out tokens"
                                   f"{' (estimated)' if u.estimated else ''} · {result.requests} request(s) · "
                                   f"{time.monotonic() - started:.1f} s", style="dim", highlight=False)
            if result.stopped == "max_turns":
                self.console.print(f"[yellow]lime:[/yellow] stopped after {result.requests} model request{'s' if result.requests != 1 else ''} "
                                   "(--max-turns); say 'continue' to go on", highlight=False)
        except Cancelled:
            self.console.print("[dim]⏹ cancelled[/dim]")
        except KeyboardInterrupt:
            self.console.print("[dim]⏹ cancelled[/dim]")
        except LimeError as exc:
            self.console.print(f"[red]error:[/red] {esc(str(exc))}", highlight=False)

    def _run(self, prompt: str, images: list[dict[str, Any]]) -> Any:
        """One turn with Esc and Ctrl-C watched (cli/turnkeys.py)."""
        from lime.cli.turnkeys import TurnKeys

        if self.ui is None:
            return self.agent.run(prompt, parts=images)
        with TurnKeys() as keys:
            self.ui.keys = keys  # the TerminalUI draws under the keys' guard
            try:
                return self.agent.run(prompt, parts=images)
            finally:
                self.ui.keys = None

    # -- slash commands ----------------------------------------------------------------------

    def command(self, line: str, *, only: set[str] | None = None) -> str | None:
        from lime.cli import rewind_cmd, sessions_cmd

        name, _, rest = line[1:].partition(" ")
        rest = rest.strip()
        name = name.lower()
        if only is not None and name not in only and not self._is_custom(line):
            raise LimeError(f"/{name} needs the interactive REPL; with --resume: /{', /'.join(sorted(only))} "
                            "and your custom commands")
        handler = {
            "resume": lambda r: sessions_cmd.cmd_resume(self, r), "new": lambda r: sessions_cmd.cmd_new(self, r),
            "rename": lambda r: sessions_cmd.cmd_rename(self, r), "fork": lambda r: sessions_cmd.cmd_fork(self, r),
            "rewind": lambda r: rewind_cmd.cmd_rewind(self, r), "cost": self.cmd_cost,
            "model": self.cmd_model, "reasoning": self.cmd_reasoning, "verbosity": self.cmd_verbosity,
            "status": self.cmd_status, "compact": self.cmd_compact, "clear": self.cmd_clear,
            "permissions": self.cmd_permissions, "sandbox": self.cmd_sandbox, "plan": self.cmd_plan,
            "memory": self.cmd_memory, "config": self.cmd_config, "init": self.cmd_init,
            "agents": self.cmd_agents,
            "mcp": self.cmd_mcp,
            "help": self.cmd_help, "exit": None, "quit": None,
        }
        if name in ("exit", "quit"):
            return "exit"
        fn = handler.get(name)
        if fn is None:
            fn = self._custom_command(name, line)
        if fn is None:
            self.console.print(f"unknown command /{esc(name)}; /help lists the commands", highlight=False)
            return None
        fn(rest)
        return None

    def _is_custom(self, line: str) -> bool:
        """A user's custom command (these run on a saved session too: ``lime --resume REF /NAME``)."""
        from lime.cli import custom_commands

        return custom_commands.resolve(line, self.s.commands) is not None

    def _custom_command(self, name: str, line: str) -> Any:
        """``/commands`` and the user's custom commands (``custom_commands``); None: not one."""
        from lime.cli import custom_commands

        if name == "commands":
            return self.cmd_commands
        if name == "skills":
            return lambda _rest: self._list_skills()
        if name == "plugin":
            return self.cmd_plugin
        found = custom_commands.resolve(line, self.s.commands)
        if found is not None:
            return lambda _rest: self.answer(found[0].expand(found[1]))
        skill = getattr(self.agent.registry.get("skill"), "skills", {}).get(name)
        if skill is None or name in custom_commands.BUILTINS:
            return None
        # The user picks the skill: the model is asked to load it (so its allowed-tools hold for this turn).
        return lambda rest: self.answer(f"Load the skill {name} with the skill tool"
                                        + (f" (arguments: {rest})" if rest else "") + " and follow it.")

    def cmd_plugin(self, rest: str) -> None:
        from lime.cli import plugins

        action, _, pid = rest.partition(" ")
        found = plugins.discover()
        if action in ("", "list"):
            on = plugins.enabled_ids()
            if not found:
                self.console.print("no plugins (lime plugin install PATH)", style="dim")
            for p in sorted(found.values(), key=lambda p: p.id):
                self.console.print(f"{'[on] ' if p.id in on else '[off]'} {esc(p.id)} [dim]{esc(p.text('description'))}[/dim]",
                                   highlight=False)
            return
        if action not in ("enable", "disable") or pid.strip() not in found:
            self.console.print("usage: /plugin list | enable ID | disable ID (an installed plugin's id)", style="dim")
            return
        plugins.set_enabled(pid.strip(), action == "enable")
        self.console.print(f"{action}d {esc(pid.strip())}: takes effect in the next session", style="dim")
        if action == "enable":
            for line in found[pid.strip()].abilities():
                self.console.print(f"  - {esc(line)}", highlight=False)

    def _list_skills(self) -> None:
        tool = self.agent.registry.get("skill")
        skills = getattr(tool, "skills", {})
        if not skills:
            self.console.print("no skills (add ~/.lime/skills/NAME/SKILL.md)", style="dim")
        for s in sorted(skills.values(), key=lambda s: s.name):
            self.console.print(f"{esc(s.name)}  [dim]{esc(s.description)} ({s.scope})[/dim]", highlight=False)

    def cmd_commands(self, _rest: str) -> None:
        from lime.cli import custom_commands

        if not self.s.commands:
            self.console.print("no custom commands (lime command create NAME, or NAME.md in ~/.lime/commands/)",
                               style="dim")
        for name, c in sorted(self.s.commands.items()):
            note = "  (shadowed by the built-in)" if name in custom_commands.BUILTINS else ""
            self.console.print(f"/{esc(name)} {esc(c.argument_hint)}  [dim]{esc(c.description)} ({c.scope}){note}[/dim]",
                               highlight=False)

    def cmd_help(self, _rest: str) -> None:
        self.console.print(HELP, markup=False, highlight=False)

    def cmd_model(self, rest: str) -> None:
        from lime.catalog.routing import service_of
        from lime.catalog.store import load_catalog

        if not rest:
            catalog = load_catalog()
            current = self.agent.route.slug
            for e in catalog:
                try:
                    svc = service_of(e)
                except LimeError:
                    svc = e.provider
                mark = "*" if e.slug == current else " "
                self.console.print(f"{mark} {e.slug:<28} {svc:<12} {e.context_window:>9,}  "
                                   f"({e.source})", highlight=False, markup=False)
            self.console.print("switch with /model SLUG", style="dim")
            return
        from lime.runtime.setup import switch_model

        for name in switch_model(self.agent, rest, self.endpoint):
            what = "reasoning level" if name == "reasoning" else f"{name} setting"
            self.console.print(f"note: {self.agent.route.slug} takes no {what}; /{name} unset", style="dim")
        route = self.agent.route
        self.console.print(f"model: [bold]{esc(route.slug)}[/bold] ({esc(route.service)})", highlight=False)

    def cmd_reasoning(self, rest: str) -> None:
        if not rest:
            levels = ", ".join(self.agent.route.capabilities.reasoning_levels)
            allowed = self.agent.route.entry.allows_reasoning
            self.console.print(f"reasoning: {self.agent.settings.reasoning or 'default'}"
                               + (f" (levels: {levels})" if allowed else f" ({self.agent.route.slug} takes none)"),
                               highlight=False, markup=False)
            return
        self._set_level("reasoning", rest)

    def cmd_verbosity(self, rest: str) -> None:
        if not rest:
            self.console.print(f"verbosity: {self.agent.settings.verbosity or 'default'}", highlight=False, markup=False)
            return
        self._set_level("verbosity", rest)

    def _set_level(self, name: str, value: str) -> None:
        from lime.runtime.setup import set_level

        level = set_level(self.agent, name, value)
        self.console.print(f"{name}: {level or 'default'}", highlight=False, markup=False)

    def cmd_status(self, _rest: str) -> None:
        from lime.runtime.agent import compact_threshold

        r = self.agent.route
        sess = self.s.session
        tokens = self.agent.estimated_input(self.agent.tool_specs())
        t = sess.totals
        rows = [
            ("model", f"{r.slug} (wire id {r.wire_model})"),
            ("route", f"{r.service} · {r.base_url or '-'}"),
            ("credential", r.credential.source),
            ("capabilities", ", ".join(r.capabilities.flags()) or "none"),
            ("reasoning", self.agent.settings.reasoning or "default"),
            ("verbosity", self.agent.settings.verbosity or "default"),
            ("permissions", self.agent.policy.mode),
            ("session", f"{sess.id} ({sess.path})"),
            ("title", sess.title or "(untitled)"),
            ("context", f"~{tokens:,} of {r.entry.context_window:,} tokens; compacts above "
                        f"{compact_threshold(r):,}; {sess.compactions} compaction(s) so far"),
            ("tokens used", f"{t.prompt_tokens:,} in, {t.completion_tokens:,} out over {t.requests} "
                            f"request{'' if t.requests == 1 else 's'}"
                            + (" (partly estimated)" if t.estimated else "")),
        ]
        for k, v in rows:
            self.console.print(f"{k:<13} {v}", highlight=False, markup=False)

    def cmd_cost(self, _rest: str) -> None:
        from lime.catalog.prices import session_cost

        t = self.s.session.totals
        self.console.print(f"cost          {session_cost(self.agent.route.entry, t.to_json())}", highlight=False,
                           markup=False)
        written = f", {t.cache_write_tokens:,} written to the cache" if t.cache_write_tokens else ""
        self.console.print(f"tokens        {t.prompt_tokens:,} in ({t.cache_read_tokens:,} cached{written}), "
                           f"{t.completion_tokens:,} out over {t.requests} request{'' if t.requests == 1 else 's'}"
                           + (" (partly estimated)" if t.estimated else ""), highlight=False, markup=False)

    def cmd_permissions(self, rest: str) -> None:
        policy = self.agent.policy
        if rest:
            self.set_mode(rest)  # plan mode offers other tools from the next request on
        origin = f" (from {policy.mode_origin})" if policy.mode_origin else ""
        self.console.print(f"permission mode: {esc(policy.mode)}{esc(origin)}", highlight=False)
        for kind in ("deny", "ask", "allow"):
            for rule in getattr(policy, kind):
                self.console.print(f"  {kind:<5} {esc(rule.text)}  [dim]{esc(rule.origin)}[/dim]", highlight=False)
        if policy.enabled is not None:
            self.console.print(f"  tools  {esc(', '.join(sorted(policy.enabled)))} (--allowedTools)", highlight=False)

    def cmd_agents(self, _rest: str) -> None:
        from lime.cli.agents_cmd import lines, load_here

        catalog = load_here(bool(self.args.trust), lambda _text: None)
        for line in [*(f"skipped: {p}" for p in catalog.problems), *lines(catalog, verbose=True)]:
            self.console.print(line, highlight=False, markup=False)

    def cmd_sandbox(self, _rest: str) -> None:
        from lime.cli.sandbox_cmd import report
        from lime.textsafe import sanitize

        ws = self.agent.workspace
        lines, _ok = report(ws.sandbox, ws.isolate_network)
        for line in lines:
            self.console.print(sanitize(line), highlight=False, markup=False)

    def cmd_plan(self, _rest: str) -> None:
        if self.agent.policy.mode == "plan":
            self.set_mode(self._before_plan if self._before_plan != "plan" else "default")
            self.console.print(f"plan mode off: permission mode {esc(self.agent.policy.mode)}", highlight=False)
            return
        self.set_mode("plan")
        self.console.print("plan mode: the model researches read-only and ends with a plan for you to approve",
                           style="dim", highlight=False)

    def cmd_compact(self, _rest: str) -> None:
        if not self.agent.compact("manual"):
            return

    def cmd_mcp(self, _rest: str) -> None:
        from lime.cli.mcp_chat import CURRENT

        self._lines(CURRENT.lines() if CURRENT is not None else ["no MCP servers configured (lime mcp add NAME COMMAND)"])

    def _lines(self, lines: list[str]) -> None:
        from lime.textsafe import sanitize

        for line in lines:  # file names and settings values come from the repository: shown safely
            self.console.print(sanitize(line), highlight=False, markup=False, soft_wrap=True)

    def cmd_memory(self, _rest: str) -> None:
        from lime.cli.inspect import memory_lines

        first = self.s.session.messages[:1]
        system = str(first[0].get("content")) if first and first[0].get("role") == "system" else None
        self._lines(memory_lines(self.args, system))

    def cmd_config(self, _rest: str) -> None:
        from lime.cli.inspect import config_lines

        self._lines(config_lines(self.args))

    def cmd_init(self, _rest: str) -> None:
        from lime.cli.init_cmd import init
        from lime.runtime.project import discover

        self._lines(init(discover().root))

    def cmd_clear(self, _rest: str) -> None:
        self.agent.clear()
        self.console.print("conversation cleared", style="dim")


def _warm_tokenizer() -> None:
    try:
        from lime.tokens import count_text

        count_text("warm up")
    except Exception:  # only a warm-up: the real call reports any problem
        pass


COMMANDS = ("model", "reasoning", "verbosity", "status", "permissions", "sandbox", "plan", "memory", "config",
            "init", "mcp", "agents", "compact", "clear", "resume", "new", "rename", "fork", "rewind", "cost", "help",
            "exit")


def _in_order(typed: str, name: str) -> bool:
    it = iter(name)
    return all(ch in it for ch in typed)


def _completer(repl: Repl) -> Any:
    """Tab completes slash commands, model slugs after /model, and levels after /reasoning, /verbosity."""
    from prompt_toolkit.completion import Completer, Completion

    class SlashCompleter(Completer):
        def get_completions(self, document: Any, complete_event: Any) -> Any:
            text = document.text_before_cursor
            word = document.get_word_before_cursor(WORD=True)
            if word.startswith("@"):
                from lime.cli.mentions import completions

                for option in completions(Path.cwd(), word[1:]):
                    yield Completion("@" + option, start_position=-len(word))
                return
            if not text.startswith("/") or "\n" in text:
                return
            if " " not in text:
                # A fuzzy palette: prefix matches first, then names holding the typed letters in order.
                names = list(dict.fromkeys((*COMMANDS, "commands", "skills", "plugin",
                                            *sorted(set(repl.s.commands) - set(COMMANDS)))))
                typed = text[1:].lower()
                prefix = [n for n in names if n.startswith(typed)]
                fuzzy = [n for n in names if n not in prefix and _in_order(typed, n)]
                for name in prefix + fuzzy:
                    yield Completion("/" + name, start_position=-len(text))
                return
            cmd, _, arg = text.partition(" ")
            options: list[str] = []
            if cmd == "/model":
                from lime.catalog.store import load_catalog

                options = [e.slug for e in load_catalog()]
            elif cmd == "/reasoning":
                options = [*repl.agent.route.capabilities.reasoning_levels, "off"]
            elif cmd == "/verbosity":
                options = ["low", "medium", "high", "off"]
            elif cmd == "/permissions":
                from lime.runtime.modes import MODES

                options = list(MODES)
            for opt in options:
                if opt.startswith(arg):
                    yield Completion(opt, start_position=-len(arg))

    return SlashCompleter()
