"""The built-in tools a model may call to work in the current directory.

Every path goes through ``Workspace`` (resolved, checked against the roots, opened without
following symlinks). Outputs are capped so one call cannot flood the context window. A tool
never raises to the agent loop: failures, bad arguments included, come back as a result the
model can read.
"""

from __future__ import annotations

import fnmatch
import json
from pathlib import Path
from typing import Any

from lime.runtime.registry import FunctionTool, Tool, ToolContext, ToolResult, invoke
from lime.runtime.workspace import ToolFailure, Workspace, display

__all__ = ["TOOLS", "Tool", "ToolFailure", "ToolResult", "Workspace", "lookup", "parse_arguments", "run_tool"]

MAX_READ_LINES = 2000
MAX_LINE_CHARS = 2000
MAX_OUTPUT_CHARS = 30_000
MAX_LIST_ENTRIES = 500
SHELL_TIMEOUT = 120.0
SHELL_TIMEOUT_MAX = 600.0
SHELL_OUTPUT_LIMIT = 50_000_000  # bytes a command may print before it is killed
MAX_READ_BYTES = 20_000_000


def _obj(props: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {"type": "object", "properties": props, "required": required, "additionalProperties": False}


def _cap(text: str, limit: int = MAX_OUTPUT_CHARS) -> str:
    if len(text) <= limit:
        return text
    head = text[: limit * 2 // 3]
    tail = text[-(limit // 3):]
    return f"{head}\n... [{len(text) - len(head) - len(tail)} characters omitted] ...\n{tail}"


def _int_arg(args: dict[str, Any], name: str, default: int | None) -> int | None:
    value = args.get(name, default)
    if value is None:
        return None
    if isinstance(value, bool):
        raise ToolFailure(f"{name} must be an integer, not {json.dumps(value)}")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str) and value.strip().lstrip("+-").isdigit() and len(value) < 20:
        value = int(value)
    if not isinstance(value, int):
        shown = json.dumps(value)[:40] if not isinstance(value, float) else repr(value)
        raise ToolFailure(f"{name} must be an integer, got {shown}")
    return value


def _str_arg(args: dict[str, Any], name: str, *, required: bool = False) -> str | None:
    value = args.get(name)
    if value is None or (value == "" and not required):
        if required:
            raise ToolFailure(f"{name} is required")
        return None
    if not isinstance(value, str):
        raise ToolFailure(f"{name} must be a string, got {type(value).__name__}")
    return value


def _read_text(ws: Workspace, path: Path, raw: str) -> str:
    data = ws.read_bytes(path, MAX_READ_BYTES, raw=raw)
    if b"\0" in data[:8192]:
        raise ToolFailure(f"{display(raw)} looks like a binary file")
    return data.decode("utf-8", errors="replace")


def read_file(ws: Workspace, args: dict[str, Any]) -> str:
    path = ws.resolve(args.get("path"), must_exist=True)
    text = _read_text(ws, path, args["path"])
    lines = text.splitlines()
    start = _int_arg(args, "start_line", 1) or 1
    end = _int_arg(args, "end_line", None)
    if start < 1:
        raise ToolFailure("start_line starts at 1")
    if end is None:
        end = min(len(lines), start + MAX_READ_LINES - 1)
    if end < start and lines:
        raise ToolFailure(f"end_line ({end}) is before start_line ({start})")
    if not lines:
        return f"{ws.show(path)} is empty"
    if start > len(lines):
        raise ToolFailure(f"start_line {start} is past the end of the file ({len(lines)} lines)")
    end = min(end, len(lines), start + MAX_READ_LINES - 1)
    width = len(str(end))
    out = [f"{n:>{width}}\t{line[:MAX_LINE_CHARS]}" for n, line in enumerate(lines[start - 1:end], start)]
    note = ""
    if end < len(lines):
        note = f"\n[lines {start}-{end} of {len(lines)}; pass start_line/end_line for more]"
    return _cap("\n".join(out)) + note


def write_file(ws: Workspace, args: dict[str, Any]) -> str:
    path = ws.resolve(args.get("path"))
    content = args.get("content")
    if not isinstance(content, str):
        raise ToolFailure("content must be a string")
    existed = ws.write_bytes(path, content.encode("utf-8", errors="surrogatepass"), raw=args["path"])
    lines = content.count("\n") + (0 if content.endswith("\n") or not content else 1)
    return f"{'overwrote' if existed else 'created'} {ws.show(path)} ({lines} lines)"


def edit_file(ws: Workspace, args: dict[str, Any]) -> str:
    path = ws.resolve(args.get("path"), must_exist=True)
    old, new = args.get("old_string"), args.get("new_string")
    if not isinstance(old, str) or not isinstance(new, str):
        raise ToolFailure("old_string and new_string must be strings")
    if old == "":
        raise ToolFailure("old_string must not be empty (use write_file to create a file)")
    if old == new:
        raise ToolFailure("old_string and new_string are the same")
    text = _read_text(ws, path, args["path"])
    count = text.count(old)
    if count == 0:
        raise ToolFailure(f"old_string not found in {ws.show(path)} (it must match exactly, whitespace included)")
    replace_all = bool(args.get("replace_all"))
    if count > 1 and not replace_all:
        raise ToolFailure(f"old_string occurs {count} times in {ws.show(path)}; give more context or set replace_all")
    updated = text.replace(old, new) if replace_all else text.replace(old, new, 1)
    ws.write_bytes(path, updated.encode("utf-8", errors="surrogatepass"), raw=args["path"])
    return f"edited {ws.show(path)} ({count if replace_all else 1} replacement{'s' if replace_all and count > 1 else ''})"


def glob_search(ws: Workspace, args: dict[str, Any]) -> str:
    raw = _str_arg(args, "path") or "."
    root = ws.resolve(raw, must_exist=True)
    pattern = _str_arg(args, "pattern")
    if not root.is_dir():
        return ws.show(root)
    shown: list[str] = []
    if not pattern:
        listed = sorted(ws.entries(root, recursive=False, raw=raw), key=lambda e: (not e[1], e[0].name))
        shown = [ws.show(p) + ("/" if is_dir else "") for p, is_dir in listed]
    else:
        pat = pattern[3:] if pattern.startswith("**/") else pattern
        for p, is_dir in ws.entries(root, recursive=True, raw=raw):
            if is_dir:
                continue
            rel = str(p.relative_to(root))
            if fnmatch.fnmatch(rel, pattern) or fnmatch.fnmatch(rel, pat) or fnmatch.fnmatch(p.name, pat):
                shown.append(ws.show(p))
    if not shown:
        return "(no matches)" if pattern else "(empty directory)"
    more = len(shown) - MAX_LIST_ENTRIES
    text = "\n".join(shown[:MAX_LIST_ENTRIES])
    return text + (f"\n[{more} more entries not shown]" if more > 0 else "")


def grep_search(ws: Workspace, args: dict[str, Any]) -> str:
    from lime.runtime import ripgrep

    pattern = _str_arg(args, "pattern", required=True)
    assert pattern is not None
    raw = _str_arg(args, "path") or "."
    root = ws.resolve(raw, must_exist=True)
    return _cap(ripgrep.search(ws, pattern, root, raw=raw, glob=_str_arg(args, "glob"),
                               ignore_case=bool(args.get("ignore_case"))))


def bash(ws: Workspace, args: dict[str, Any]) -> str:
    import subprocess  # with the shell tool only: every chat imports this module

    from lime.runtime import sandbox, shellrun

    command = _str_arg(args, "command", required=True)
    if command is None or not command.strip():
        raise ToolFailure("command is required")
    if "\0" in command:
        raise ToolFailure("a command cannot contain a NUL character")
    raw_timeout = args.get("timeout")
    if raw_timeout is not None and (isinstance(raw_timeout, bool) or not isinstance(raw_timeout, int | float | str)):
        raise ToolFailure("timeout must be a number of seconds")
    try:
        timeout = float(raw_timeout) if raw_timeout is not None else SHELL_TIMEOUT
    except (TypeError, ValueError):
        raise ToolFailure("timeout must be a number of seconds") from None
    if timeout != timeout:  # NaN
        raise ToolFailure("timeout must be a number of seconds")
    timeout = max(1.0, min(timeout, SHELL_TIMEOUT_MAX))
    try:
        out = shellrun.run(ws, command, timeout=timeout, keep=MAX_OUTPUT_CHARS, limit=SHELL_OUTPUT_LIMIT)
    except sandbox.SandboxError as exc:
        raise ToolFailure(f"the sandbox could not be set up ({exc.strerror}); the command was not run") from None
    except subprocess.SubprocessError:
        raise ToolFailure("the sandbox could not be entered; the command was not run") from None
    except OSError as exc:
        raise ToolFailure(f"cannot start the shell: {exc.strerror or exc}") from None
    if out.flooded:
        status = f"killed after writing more than {SHELL_OUTPUT_LIMIT // 1_000_000} MB of output"
    elif out.timed_out:
        status = f"killed after the {timeout:g} s timeout"
    elif out.lingered:
        status = f"exit status {out.returncode}; background processes still running were killed when it ended"
    else:
        status = f"exit status {out.returncode}"
    text = _cap(out.text()) if out.total <= len(out.head) + len(out.tail) else out.text()
    return f"{text}\n[{status}]" if out.total else f"[{status}, no output]"


_PATH = {"type": "string", "description": "file path, relative to the working directory"}

TOOLS: dict[str, Tool] = {
    t.name: t
    for t in (
        FunctionTool("read_file", "Read a text file. Lines come numbered; use start_line/end_line for part of a long file.",
             _obj({"path": _PATH, "start_line": {"type": "integer", "description": "first line (1-based)"},
                   "end_line": {"type": "integer", "description": "last line (inclusive)"}}, ["path"]),
             "read", read_file),
        FunctionTool("write_file", "Create or overwrite a text file with the given content.",
             _obj({"path": _PATH, "content": {"type": "string"}}, ["path", "content"]), "edit", write_file),
        FunctionTool("edit_file", "Replace an exact string in a file. old_string must match exactly once "
             "(whitespace included) unless replace_all is true.",
             _obj({"path": _PATH, "old_string": {"type": "string"}, "new_string": {"type": "string"},
                   "replace_all": {"type": "boolean"}}, ["path", "old_string", "new_string"]), "edit", edit_file),
        FunctionTool("glob_search", "List a directory, or find files matching a glob pattern such as '**/*.py'.",
             _obj({"path": {"type": "string", "description": "directory (default: working directory)"},
                   "pattern": {"type": "string", "description": "glob pattern"}}, []), "read", glob_search),
        FunctionTool("grep_search", "Search file contents with a regular expression; prints path:line:text.",
             _obj({"pattern": {"type": "string"}, "path": {"type": "string"},
                   "glob": {"type": "string", "description": "only files matching this glob, e.g. '*.py'"},
                   "ignore_case": {"type": "boolean"}}, ["pattern"]), "read", grep_search),
        FunctionTool("bash", "Run a shell command in the working directory (output capped, default timeout 120 s; "
             "processes it leaves in the background are killed when it ends).",
             _obj({"command": {"type": "string"}, "timeout": {"type": "number", "description": "seconds"}},
                  ["command"]), "execute", bash),
    )
}


# Earlier names of the tools, still accepted in tool calls, rules and flags.
ALIASES: dict[str, str] = {"list_files": "glob_search", "grep": "grep_search", "shell": "bash"}


def lookup(name: str) -> Tool | None:
    """The tool a call names, by its current name or an earlier one."""
    return TOOLS.get(name) or TOOLS.get(ALIASES.get(name, ""))


def canonical(name: str) -> str:
    return ALIASES.get(name, name)


def parse_arguments(raw: str) -> dict[str, Any]:
    if not raw.strip():
        return {}
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ToolFailure(f"arguments are not valid JSON ({exc.msg} at column {exc.colno})") from None
    except RecursionError:
        raise ToolFailure("arguments are nested too deeply") from None
    if not isinstance(value, dict):
        raise ToolFailure("arguments must be a JSON object")
    return value


def run_tool(tool: Tool, ws: Workspace, args: dict[str, Any]) -> ToolResult:
    """Run ``tool`` outside a conversation (no permission check: callers decide that)."""
    return invoke(tool, args, ToolContext(ws))
