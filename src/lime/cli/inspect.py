"""What ``/memory`` and ``/config`` show in the REPL: the instruction files the system prompt is made
of (with their sizes), and the merged settings with the file each value came from."""

from __future__ import annotations

import argparse
import json
import os
from typing import Any

from lime.runtime import settings_keys


def _context(args: argparse.Namespace) -> Any:
    """The project, trust and settings as a chat started now would see them (never asks)."""
    from lime.cli.trust import prepare

    notes: list[str] = []
    return prepare(args, notes.append, ask=False), notes


def memory_lines(args: argparse.Namespace, system: str | None) -> list[str]:
    """Each instruction file that exists or could exist, its size and whether it is used."""
    from lime.runtime.prompt import memory_path

    context, _ = _context(args)
    here = context.project
    lines = []
    memory = memory_path()
    size = _size(memory)
    lines.append(f"user memory      {memory}  " + (f"{size:,} bytes" if size is not None else "(none; create it for "
                                                     "instructions that follow you into every project)"))
    if not here.agents:
        lines.append(f"project          no AGENTS.md or AGENTS.local.md from {here.root} down to {here.cwd}")
    for f in here.agents:
        used = "" if context.trusted else "  (not used: the folder is not trusted)"
        lines.append(f"project          {os.path.relpath(f, here.cwd)}  {_size(f) or 0:,} bytes{used}")
    if system is not None:
        lines.append(f"system prompt    {len(system.encode('utf-8')):,} bytes in this session "
                     "('lime system-prompt --layers' shows each layer)")
    return lines


def _size(path: Any) -> int | None:
    try:
        return int(path.stat().st_size) if path.is_file() else None
    except OSError:
        return None


def _shown(name: str, value: Any) -> str:
    """A value as JSON, with anything that could be a secret (env values, known keys) masked."""
    if name.startswith("env.") and settings_keys.dangerous_env(name[4:]) and isinstance(value, str):
        return json.dumps("*" * min(len(value), 8))
    text = json.dumps(value, ensure_ascii=False)
    try:
        from lime.auth.masking import redact
        from lime.auth.resolve import known_keys

        return redact(text, known_keys())
    except Exception:  # masking is best effort here; the value itself came from the user's files
        return text


def config_lines(args: argparse.Namespace) -> list[str]:
    """Every setting that is set, merged, with its source; later files override earlier ones."""
    context, notes = _context(args)
    settings = context.settings
    lines = ["settings files read: " + (", ".join(settings.loaded) or "none")]
    seen = settings.keys.seen
    if not seen:
        lines.append("no settings set (see README: Settings files)")
    for name in sorted(seen):
        values = seen[name]
        last = values[-1]
        if isinstance(last.value, list) and name.startswith("permissions."):
            for v in values:  # rule lists add up across files
                for item in v.value if isinstance(v.value, list) else [v.value]:
                    lines.append(f"{name} += {_shown(name, item)}  ({v.origin})")
            continue
        over = f"; overrides {', '.join(v.origin for v in values[:-1])}" if len(values) > 1 else ""
        lines.append(f"{name} = {_shown(name, last.value)}  ({last.origin}{over})")
    policy = context.policy
    lines.append(f"permission mode: {policy.mode}" + (f" (from {policy.mode_origin})" if policy.mode_origin else ""))
    if not context.trusted and context.project.files:
        lines.append("the project's settings are not used: the folder is not trusted")
    lines.extend(f"note: {n}" for n in notes)
    return lines
