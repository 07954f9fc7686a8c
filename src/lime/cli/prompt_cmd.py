"""`lime system-prompt`: the system prompt a new session would start with here, exactly as it is
sent: the same layers (base, tools, environment, user memory, trusted AGENTS files, ``--system``)
assembled for the same model, tools and permission mode as a chat started with the same flags."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser("system-prompt", help="print the system prompt a new session would start with here")
    p.add_argument("--cwd", metavar="PATH", help="resolve it for another directory")
    p.add_argument("--date", metavar="YYYY-MM-DD", help="the date to put in the environment block")
    p.add_argument("--layers", action="store_true", help="list the layers, their sources and sizes instead")
    p.set_defaults(handler=run_system_prompt)


def run_system_prompt(args: argparse.Namespace) -> int:
    from lime.cli.trust import prepare
    from lime.errors import UsageError
    from lime.runtime.prompt import assemble
    from lime.textsafe import sanitize

    cwd = Path(args.cwd).expanduser() if args.cwd else None
    if cwd is not None and not cwd.is_dir():
        raise UsageError(f"--cwd {args.cwd}: not a directory")
    date = None
    if args.date is not None:
        import datetime

        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", args.date):
            raise UsageError(f"--date must be YYYY-MM-DD, got {args.date[:40]!r}")
        try:
            day = datetime.date.fromisoformat(args.date)
        except ValueError:
            raise UsageError(f"--date {args.date}: not a date") from None
        date = day.strftime("%Y-%m-%d (%A)")

    def say(text: str) -> None:
        print(f"lime: {sanitize(text)}", file=sys.stderr)

    context = prepare(args, say, cwd=cwd, ask=False, date=date)
    route, (tools, registry) = _route_and_tools(args, context)
    built = assemble(context.prompt, tools=tools, window=route.entry.context_window, builtin=registry.is_builtin)
    for note in built.notices:
        say(f"note: {note}")
    if args.layers:
        for layer in built.layers:
            flag = " (cut)" if layer.cut else ""
            print(sanitize(f"{layer.name:<12} {len(layer.text.encode('utf-8')):>7,} bytes  {layer.source}{flag}"))
        print(f"{'total':<12} {len(built.text.encode('utf-8')):>7,} bytes  for {sanitize(route.slug)}")
        return 0
    out = built.text if not sys.stdout.isatty() else sanitize(built.text)
    sys.stdout.write(out + ("" if out.endswith("\n") else "\n"))
    return 0


def _route_and_tools(args: argparse.Namespace, context: Any) -> tuple[Any, Any]:
    """The model a chat here would use (no key needed, nothing started) and the tools it would offer."""
    from lime.catalog.routing import resolve_route
    from lime.cli.setup import agent_catalog, endpoint, skill_folders
    from lime.runtime import skills
    from lime.runtime.setup import choose_model, offered_tools

    model = context.settings.keys.model
    slug, _why = choose_model(args.model, endpoint(lambda _text: None), (model.value, model.origin) if model else None)
    route = resolve_route(slug)
    from lime.runtime.tools import Workspace

    workspace = Workspace.create(context.project.cwd, sandbox=context.policy.sandboxed)
    found = skills.discover(skill_folders(context.project.root, context.trusted))
    context.prompt.skills = skills.prompt_block(found)  # as a chat's prompt lists them
    return route, offered_tools(route, context.policy, workspace, not args.no_tools,
                                agents=agent_catalog(context, lambda _text: None), skills=found)
