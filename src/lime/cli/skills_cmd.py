"""``lime skills``: the skills a conversation here would offer (``runtime.skills``)."""

from __future__ import annotations

import argparse
from typing import Any

from lime.textsafe import sanitize


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser("skills", help="list the skills the model can load here")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from lime.cli.setup import skill_folders
    from lime.runtime import project as projects
    from lime.runtime.skills import discover

    here = projects.discover()
    trusted = bool(getattr(args, "trust", False)) or projects.is_trusted(here.root)
    folders = skill_folders(here.root, trusted)
    found = discover(folders)
    if not found:
        where = ", ".join(f"{f}/NAME/SKILL.md" for _, f in folders)
        print(sanitize(f"no skills (add {where})"))
    for name, s in sorted(found.items()):
        tools = f"  allowed-tools: {', '.join(s.allowed_tools)}" if s.allowed_tools else ""
        print(sanitize(f"{name:<20} {s.scope:<8} {s.description[:80]}{tools}"))
        print(sanitize(f"{'':<20} {s.directory}"))
    if not trusted and (here.root / ".lime" / "skills").is_dir():
        print("(this folder is not trusted: its .lime/skills/ are not used)")
    return 0
