"""The approval prompt: what a tool call will do, in full, before the user says yes.

A prompt that shows less than the call does is an attack surface: a ``\\r`` and ``ESC[2K`` in a
command can make ``touch PWNED # ...`` look like ``ls -la``, and a payload on line 13 of an edit
was once below the fold. So the command is shown whole with its control characters visible
(``lime.textsafe``), and a file change is shown as the diff it makes to the file as it is now.
A long preview shows its first page and says how much is left; ``v`` shows the rest. Nothing is
silently cut.
"""

from __future__ import annotations

import difflib
import json
import os
import shutil
import stat
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lime.textsafe import sanitize

if TYPE_CHECKING:
    from lime.runtime.executor import Approval, PlanReview
    from lime.runtime.tools import Tool

MAX_PREVIEW_FILE = 4_000_000


def _current_text(raw: Any) -> str | None:
    """The file as it is now, for the diff; None when there is none to show (missing, not a regular
    file, too big, binary, or outside the working directory: the preview never shows a file the
    tool itself may not touch). Never blocks on a FIFO or a device."""
    if not isinstance(raw, str) or not raw or "\0" in raw:
        return None
    path = Path(raw).expanduser()
    try:
        if not path.resolve().is_relative_to(Path.cwd().resolve()):
            return None
    except OSError:
        return None
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_PREVIEW_FILE:
            return None
        with os.fdopen(fd, "rb", closefd=False) as fh:
            data = fh.read(MAX_PREVIEW_FILE + 1)
    except OSError:
        return None
    finally:
        os.close(fd)
    if b"\0" in data[:8192]:
        return None
    return data.decode("utf-8", errors="replace")


def _diff(path: str, before: str | None, after: str) -> list[str]:
    old = (before or "").splitlines()
    new = after.splitlines()
    label = f"a/{path}"
    if before is None:
        exists = bool(path) and "\0" not in path and os.path.lexists(os.path.expanduser(path))
        label = f"a/{path} (exists; its current contents cannot be shown)" if exists else "/dev/null"
    lines = list(difflib.unified_diff(old, new, label, f"b/{path}", n=3, lineterm=""))
    return lines or ["(no change)"]


def preview(tool: Tool, args: dict[str, Any]) -> list[str]:
    """Every line the user should see before approving this call (unsanitised)."""
    from lime.runtime.tools import canonical

    name = canonical(tool.name)
    path = str(args.get("path", ""))
    if name == "bash":
        command = str(args.get("command", ""))
        lines = command.split("\n")
        if "timeout" in args:
            lines.append(f"(timeout {args.get('timeout')} s)")
        return lines
    if name == "write_file":
        content = args.get("content")
        if not isinstance(content, str):
            return [json.dumps(args, ensure_ascii=False)]
        return _diff(path, _current_text(path), content)
    if name == "edit_file":
        old, new = args.get("old_string"), args.get("new_string")
        if not isinstance(old, str) or not isinstance(new, str):
            return [json.dumps(args, ensure_ascii=False)]
        text = _current_text(path)
        count = text.count(old) if text is not None and old else 0
        if text is not None and (count == 1 or (count > 1 and args.get("replace_all"))):
            updated = text.replace(old, new) if args.get("replace_all") else text.replace(old, new, 1)
            return _diff(path, text, updated)
        # The edit will fail as asked (or the file cannot be read here): show both strings whole.
        return [*(f"- {ln}" for ln in old.split("\n")), *(f"+ {ln}" for ln in new.split("\n"))]
    return [json.dumps(args, ensure_ascii=False, indent=1)]


def _page_size() -> int:
    return max(10, shutil.get_terminal_size((100, 40)).lines - 8)


def ask_on_terminal(tool: Tool, args: dict[str, Any], why: str, err: Any) -> Approval | None:
    """Ask on the terminal; None when there is no terminal to ask on."""
    from lime.runtime.tools import canonical

    if sys.stdin is None or not (sys.stdin.isatty() and err.isatty()):
        return None
    name = canonical(tool.name)
    lines = [sanitize(ln) for ln in preview(tool, args)]
    page = _page_size()
    shown = lines if len(lines) <= page + 2 else lines[:page]
    head = f"{name} {sanitize(str(args.get('path', '')))}" if name in ("write_file", "edit_file") else name
    err.write(f"\nlime wants to run {head}:\n")
    err.write("".join(f"  │ {ln}\n" for ln in shown))
    if why:
        err.write(f"  ({sanitize(why)})\n")
    always = {"bash": "this exact command", "write_file": "file edits", "edit_file": "file edits"}.get(name, name)
    while True:
        rest = len(lines) - len(shown)
        view = ""
        if rest:
            err.write(f"  … {rest} more line{'s' if rest != 1 else ''} not shown yet ({len(shown)} of {len(lines)})\n")
            view = " / [v]iew the rest"
        err.write(f"Allow? [y]es / [n]o / [a]lways for {always}{view}: ")
        err.flush()
        try:
            answer = sys.stdin.readline()
        except KeyboardInterrupt:
            err.write("\n")
            return "no"
        if not answer:
            return "no"
        a = answer.strip().lower()
        if a in ("v", "view") and rest:
            err.write("".join(f"  │ {ln}\n" for ln in lines[len(shown):]))
            shown = lines
            continue
        if a in ("y", "yes"):
            return "yes"
        if a in ("a", "always"):
            return "always"
        if a in ("n", "no", ""):
            return "no"


def review_on_terminal(plan: str, path: str, err: Any) -> PlanReview | None:
    """Show the plan and ask whether to carry it out; None when there is no terminal to ask on."""
    from lime.runtime.executor import PlanReview

    if sys.stdin is None or not (sys.stdin.isatty() and err.isatty()):
        return None
    err.write(f"\nlime has a plan (saved to {sanitize(path)}):\n")
    err.write("".join(f"  │ {sanitize(ln)}\n" for ln in plan.rstrip("\n").split("\n")))
    while True:
        err.write("Carry it out? [y]es / [a]ccept edits too / [n]o, keep planning: ")
        err.flush()
        try:
            answer = sys.stdin.readline()
        except KeyboardInterrupt:
            err.write("\n")
            return PlanReview(False)
        a = answer.strip().lower()
        if not answer or a in ("n", "no"):
            break
        if a in ("y", "yes"):
            return PlanReview(True, "default")
        if a in ("a", "accept", "accept edits"):
            return PlanReview(True, "acceptEdits")
    if not answer:
        return PlanReview(False)
    err.write("What should change? (Enter alone: tell the model yourself at the prompt) ")
    err.flush()
    try:
        feedback = sys.stdin.readline()
    except KeyboardInterrupt:
        feedback = ""
    return PlanReview(False, feedback=feedback.strip())
