"""``lime command list|show|create|edit|delete``: the custom slash commands (``custom_commands``)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from lime.cli import custom_commands as cc
from lime.errors import UsageError
from lime.runtime.frontmatter import parse
from lime.textsafe import sanitize


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser("command", help="list, show, create, edit or delete custom slash commands")
    csub = p.add_subparsers(dest="command_action", metavar="ACTION", required=True)
    ls = csub.add_parser("list", help="custom commands: name, scope, description")
    ls.set_defaults(handler=run_list)
    show = csub.add_parser("show", help="a command's file")
    show.add_argument("name", metavar="NAME")
    show.set_defaults(handler=run_show)
    for action, text in (("create", "write a new command (body from $EDITOR, or piped on stdin)"),
                         ("edit", "open a command in $EDITOR (or replace its body with piped stdin)")):
        sp = csub.add_parser(action, help=text)
        sp.add_argument("name", metavar="NAME")
        sp.add_argument("--project", action="store_true", help="in this project's .lime/commands/ (default: yours)")
        sp.add_argument("--description", help="frontmatter description")
        sp.add_argument("--argument-hint", help="frontmatter argument-hint (e.g. 'FILE [FOCUS]')")
        sp.set_defaults(handler=run_write, action=action)
    delete = csub.add_parser("delete", help="delete a command's file")
    delete.add_argument("name", metavar="NAME")
    delete.add_argument("--project", action="store_true", help="the project's command (default: yours)")
    delete.set_defaults(handler=run_delete)


def _here() -> tuple[Path, bool]:
    from lime.runtime import project as projects

    here = projects.discover()
    return here.root, projects.is_trusted(here.root)


def _folder(project: bool) -> Path:
    from lime import config

    return (_here()[0] / ".lime" / "commands") if project else config.config_home() / "commands"


def run_list(args: argparse.Namespace) -> int:
    root, trusted = _here()
    found = cc.load(root, trusted)
    if not found:
        where = ", ".join(str(d) for _, d in cc.directories(root, trusted))
        print(f"no custom commands (add NAME.md files to {sanitize(where)}, or: lime command create NAME)")
        return 0
    for name, c in sorted(found.items()):
        hint = f" {c.argument_hint}" if c.argument_hint else ""
        note = "  (shadowed by the built-in command)" if name in cc.BUILTINS else ""
        print(sanitize(f"/{name}{hint:<20} {c.scope:<8} {c.description[:80]}{note}"))
    if not trusted and (root / ".lime" / "commands").is_dir():
        print("(this folder is not trusted: its .lime/commands/ are not used)")
    return 0


def _find(name: str) -> cc.Command:
    root, trusted = _here()
    name = cc.check_name(name)
    found = cc.load(root, trusted).get(name)
    if found is None:
        raise UsageError(f"no custom command /{name} (lime command list shows them)")
    return found


def run_show(args: argparse.Namespace) -> int:
    c = _find(args.name)
    print(sanitize(f"# {c.path} ({c.scope})"))
    print(sanitize(c.path.read_text(encoding="utf-8", errors="replace")), end="")
    if c.name in cc.BUILTINS:
        print(sanitize(cc.shadow_note(c.name)), file=sys.stderr)
    return 0


def _edit(path: Path) -> None:
    import shlex
    import subprocess

    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR")
    if not editor:
        raise UsageError("no editor: set $EDITOR (or pipe the command's body on stdin)")
    try:
        argv = [*shlex.split(editor), str(path)]
        code = subprocess.run(argv, check=False).returncode
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot run $EDITOR ({editor[:60]}): {exc}") from None
    if code != 0:
        raise UsageError(f"$EDITOR exited with status {code}; the command was left as it was")


def run_write(args: argparse.Namespace) -> int:
    name = cc.check_name(args.name)
    folder = _folder(args.project)
    path = folder / f"{name}.md"
    if args.action == "create" and path.exists():
        raise UsageError(f"/{name} exists already ({path}); use lime command edit {name}")
    if args.action == "edit" and not path.is_file():
        raise UsageError(f"no command file {path}; use lime command create {name}")
    if path.is_symlink():
        raise UsageError(f"{path} is a symbolic link; not writing through it")
    meta, body = parse(path.read_text(encoding="utf-8")) if path.is_file() else ({}, "")
    if args.description is not None:
        meta["description"] = args.description
    if args.argument_hint is not None:
        meta["argument-hint"] = args.argument_hint
    piped = False
    if sys.stdin is not None and not sys.stdin.isatty():
        from lime.cli.common import read_stdin_text

        text = read_stdin_text()
        if text.strip():
            more, body = parse(text)
            meta.update(more)
            piped = True
    folder.mkdir(parents=True, exist_ok=True)
    draft = cc.render(meta, body or "Describe the task here. {ARGS}\n")
    tmp = path.with_name(f".{name}.md.tmp")
    tmp.write_text(draft, encoding="utf-8")
    try:
        if not piped:
            _edit(tmp)
        meta, body = parse(tmp.read_text(encoding="utf-8", errors="replace"))
        if not body.strip():
            raise UsageError(f"/{name} has no body; nothing written")
        tmp.write_text(cc.render(meta, body), encoding="utf-8")
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    print(sanitize(f"{'created' if args.action == 'create' else 'saved'} /{name} ({path})"))
    if name in cc.BUILTINS:
        print(f"lime: note: {cc.shadow_note(name)}", file=sys.stderr)
    return 0


def run_delete(args: argparse.Namespace) -> int:
    name = cc.check_name(args.name)
    path = _folder(args.project) / f"{name}.md"
    if not path.is_file() and not path.is_symlink():
        raise UsageError(f"no command file {path}")
    path.unlink()
    print(sanitize(f"deleted /{name} ({path})"))
    return 0
