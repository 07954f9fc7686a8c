"""`lime system-prompt`: the system prompt a new session would start with here (``--system`` and,
in a trusted folder, AGENTS.md / AGENTS.local.md from the project root down to the directory)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser("system-prompt", help="print the system prompt a new session would start with here")
    p.add_argument("--cwd", metavar="PATH", help="resolve it for another directory")
    p.set_defaults(handler=run_system_prompt)


def run_system_prompt(args: argparse.Namespace) -> int:
    from lime.cli.trust import decide_trust
    from lime.errors import UsageError
    from lime.runtime import project as projects
    from lime.textsafe import sanitize

    cwd = Path(args.cwd).expanduser() if args.cwd else None
    if cwd is not None and not cwd.is_dir():
        raise UsageError(f"--cwd {args.cwd}: not a directory")
    here = projects.discover(cwd)

    def say(text: str) -> None:
        print(f"lime: {sanitize(text)}", file=sys.stderr)

    trusted = decide_trust(here, bool(getattr(args, "trust", False)), say, ask=False)
    prompt = projects.system_prompt(getattr(args, "system", None), here, trusted)
    if prompt is None:
        say("the system prompt is empty here (no --system, no AGENTS.md in a trusted folder)")
        return 0
    out = prompt if not sys.stdout.isatty() else sanitize(prompt)
    sys.stdout.write(out + ("" if out.endswith("\n") else "\n"))
    return 0
