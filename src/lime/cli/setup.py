"""From chat flags to a running conversation: the prompt (``-p`` and piped stdin), flag checks, and
the call to the runtime's session factory with lime's local server wired in as the endpoint hooks.
Both modes (``oneshot``, ``repl``) start here; neither imports the other."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from lime.errors import UsageError

if TYPE_CHECKING:
    from lime.cli.trust import Context
    from lime.local.connect import LocalEndpoint
    from lime.runtime.agent import UI
    from lime.runtime.agent_defs import Catalog as AgentCatalog
    from lime.runtime.setup import Ready


def gather_prompt(args: argparse.Namespace) -> str | None:
    """-p text, with piped stdin appended; stdin alone when piped with no -p; None for the REPL."""
    piped: str | None = None
    if sys.stdin is None:  # started with standard input closed: only -p can give a prompt
        if args.prompt is None:
            raise UsageError("no prompt: standard input is closed (give -p PROMPT)")
    elif not sys.stdin.isatty():
        from lime.cli.common import read_stdin_text

        try:
            piped = read_stdin_text()
        except OSError as exc:
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


def setup(args: argparse.Namespace, *, ui: UI, say: Callable[[str], None]) -> Ready:
    """Check the chat flags, then open the (new or resumed) session and its agent."""
    from lime import config
    from lime.cli.trust import prepare
    from lime.runtime.setup import Request, open_session
    from lime.runtime.tools import Workspace

    config.check_env()
    if args.continue_session and args.resume:
        raise UsageError("use either --continue or --resume, not both")
    from lime.cli.common import positive_int

    positive_int("--max-turns", args.max_turns, maximum=10_000)
    positive_int("--max-tokens", args.max_tokens)
    # Bad tool flags and settings fail before anything starts (a local server, a session file).
    context = prepare(args, say)
    sandboxed = context.policy.sandboxed
    from lime.runtime import settings_keys

    keys = context.settings.keys
    add_dirs, notes = settings_keys.add_dirs(keys, args.add_dirs)
    for note in notes:
        say(note)
    workspace = Workspace.create(add_dirs=add_dirs, sandbox=sandboxed)
    workspace.env = {name: v.value for name, v in keys.env.items()}
    workspace.hidden = context.policy.read_denied(workspace)
    workspace.isolate_network = context.settings.network_isolation
    if sandboxed and not args.no_tools:
        from lime.runtime.shellrun import layers

        which = layers(network=workspace.isolate_network)
        if not which.active:
            say(f"note: shell commands run without a sandbox: {which.why_not}")
        elif not which.namespaces:
            say(f"note: shell commands run under Landlock only: {which.why_not}")
    resume = "latest" if args.continue_session else args.resume
    if resume is not None and args.system:
        say("note: --system is ignored when resuming a session")
    request = Request(
        model=args.model,
        resume=resume,
        system=args.system,
        prompt=context.prompt,
        sessions=context.sessions,
        reasoning=args.reasoning,
        verbosity=args.verbosity,
        max_tokens=args.max_tokens,
        service_tier=getattr(args, "service_tier", None),
        max_turns=args.max_turns or 25,
        configured_model=(keys.model.value, keys.model.origin) if keys.model else None,
        levels={name: v.value for name, v in keys.levels.items()},
        tools=not args.no_tools,
        verbose=bool(args.verbose),
        agents=agent_catalog(context, say),
    )
    folders = [(scope, d) for scope, d in skill_folders(context.project.root, context.trusted) if d.is_dir()]
    if folders:  # the skills module is loaded only where there may be skills
        from lime.runtime import skills

        request.skills = skills.discover(folders)
        context.prompt.skills = skills.prompt_block(request.skills)
    from lime.cli import plugins

    for plugin in plugins.enabled():
        from lime.runtime.hookconfig import parse

        context.settings.hooks += parse(plugin.hooks(), "plugin", f"plugin {plugin.id}", context.settings.notes,
                                        root=plugin.root)
    if context.settings.hooks:
        from lime.runtime.hooks import Hooks

        request.hooks = Hooks(context.settings.hooks, context.project.root)
    mcp = None
    if not args.no_tools:  # configured MCP servers start while the session opens
        from lime.cli.mcp_chat import start_for_chat

        mcp = start_for_chat(args, trusted=context.trusted, roots=list(workspace.roots), say=say, notice=ui.notice)
    ready = open_session(request, policy=context.policy, workspace=workspace, ui=ui, endpoint=endpoint(ui.notice),
                         say=say, tools=mcp.tools() if mcp is not None else ())
    if mcp is not None:
        mcp.attach(ready.agent)
    from lime.cli import custom_commands

    ready.commands = custom_commands.load(context.project.root, context.trusted)
    for name in sorted(set(ready.commands) & custom_commands.BUILTINS):
        say(f"note: {custom_commands.shadow_note(name)}")
    from lime.cli.common import resume_gc

    resume_gc()
    return ready


def agent_catalog(context: Context, say: Callable[[str], None]) -> AgentCatalog:
    """The sub-agents here: built-ins, the user's, and a trusted project's; bad files named once."""
    from lime.runtime import agent_defs

    catalog = agent_defs.load(context.project.lime_dir if context.trusted else None)
    for problem in catalog.problems:
        say(problem)
    return catalog


def skill_folders(root: Path, trusted: bool) -> list[tuple[str, Path]]:
    """Where skills are found: the user's, then (in a trusted folder) the project's."""
    from lime import config
    from lime.cli import plugins

    bundled = [(f"plugin {p.id}", d) for p in plugins.enabled() if (d := p.folder("skills")) is not None]
    return [*bundled, ("user", config.config_home() / "skills"),
            *([("project", root / ".lime" / "skills")] if trusted else [])]


def endpoint(notice: Callable[[str], None]) -> LocalEndpoint:
    """The endpoint hooks every chat mode uses: lime's own local server."""
    from lime.local.connect import LocalEndpoint

    return LocalEndpoint(notice)
