"""What the words of one simple command mean to ``bash``: their values, the program they run once
wrappers are seen through, and the files their options write.

Deny rules compare the command the shell will really run, not its spelling: ``/bin/rm``, ``\\rm``,
``r""m`` and ``sudo nice -n 5 rm`` are all ``rm``. A word whose value depends on an expansion
(``$x``, ``r*``, ``{a,b}``, ``~``) has no literal value (``None``): what it runs cannot be known
before it runs.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from typing import Any

SHELLS = {"sh", "bash", "zsh", "dash", "ksh", "mksh", "ash", "fish", "csh", "tcsh", "pwsh", "rbash", "yash"}
# Builtins that run a string (or a file) as code, change what a later word runs, or set code to run.
OPAQUE_WORDS = {
    "eval": "eval runs a string as a command",
    "source": "source runs a file as commands",
    ".": ". runs a file as commands",
    "trap": "trap sets a command to run later",
    "alias": "alias changes what a later word runs",
    "hash": "hash changes which program a word runs",
    "enable": "enable changes which builtins exist",
    "shopt": "shopt changes how later lines are read",
    "fc": "fc runs commands from the history",
    "coproc": "coproc runs a command the rules cannot see",
    "let": "let evaluates arithmetic, which runs code a variable may hold",
}
# Wrappers: programs that run the command given in their arguments. The value is the set of their
# options that take a separate argument; options not listed take none.
WRAPPERS: dict[str, set[str]] = {
    "command": set(), "builtin": set(), "nohup": set(), "time": set(), "nocorrect": set(), "noglob": set(),
    "exec": {"-a"},
    "env": {"-u", "--unset", "-C", "--chdir", "-S", "--split-string"},
    "nice": {"-n", "--adjustment"},
    "timeout": {"-s", "--signal", "-k", "--kill-after"},
    "xargs": {"-a", "--arg-file", "-d", "--delimiter", "-E", "-e", "--eof", "-I", "-L", "--max-lines",
              "-n", "--max-args", "-P", "--max-procs", "-s", "--max-chars", "--process-slot-var"},
    "sudo": {"-u", "--user", "-g", "--group", "-C", "--close-from", "-D", "--chdir", "-h", "--host",
             "-p", "--prompt", "-r", "--role", "-t", "--type", "-T", "--command-timeout", "-U", "--other-user"},
    "doas": {"-u", "-C"},
    "stdbuf": {"-i", "--input", "-o", "--output", "-e", "--error"},
    "setsid": set(), "ionice": {"-c", "--class", "-n", "--classdata", "-p", "-P", "-u"},
    "chrt": set(), "taskset": set(), "busybox": set(), "unbuffer": set(), "catchsegv": set(),
}
# Wrappers whose first argument after the options is not the command (timeout's duration).
WRAPPER_SKIP = {"timeout": 1, "taskset": 1, "chrt": 1}

# Long options that name a file a command writes (``git diff --output=F``, ``sort --output F``);
# a unique abbreviation (``--outp``) works in git and getopt_long, so prefixes count too.
WRITE_OPTIONS = ("output", "output-file", "output-document", "outfile", "out-file", "log-file", "logfile")
# Short options that take the file written as their argument.
WRITE_SHORT = {"-o"}
# Programs whose plain arguments are files they create, change or remove.
WRITES_ARGS = {"tee", "touch", "truncate", "mkdir", "rmdir", "rm", "unlink", "shred", "cp", "mv", "ln",
               "install", "chmod", "chown", "chgrp", "mkfifo", "mknod", "rsync", "scp", "sed", "perl"}
# git options that run code or change where git looks, and git config keys read-only forms.
GIT_GLOBAL_WITH_ARG = {"-C", "-c", "--git-dir", "--work-tree", "--namespace", "--exec-path", "--config-env",
                       "--super-prefix", "--list-cmds"}
GIT_CONFIG_READS = {"--get", "--get-all", "--get-regexp", "--get-urlmatch", "--list", "-l", "get", "list",
                    "--get-color", "--get-colorbool", "--show-origin", "--show-scope"}

_ESCAPES = {"a": "\a", "b": "\b", "e": "\x1b", "E": "\x1b", "f": "\f", "n": "\n", "r": "\r", "t": "\t",
            "v": "\v", "\\": "\\", "'": "'", '"': '"', "?": "?"}


def text(node: Any) -> str:
    return bytes(node.text).decode("utf-8", errors="replace")


def _unescape_word(raw: str) -> str | None:
    """An unquoted word's value: backslashes removed; None when bash would expand something."""
    out: list[str] = []
    i = 0
    brace = False
    while i < len(raw):
        ch = raw[i]
        if ch == "\\":
            if i + 1 < len(raw):
                if raw[i + 1] != "\n":
                    out.append(raw[i + 1])
                i += 2
                continue
            return None
        if ch in "$`*?[(" or (ch == "~" and i == 0):
            return None
        if ch == "{":
            brace = True
        if brace and ch in ",." and ("," in raw[i:] or ".." in raw[i:]):
            return None  # brace expansion: {rm,-rf,x}
        out.append(ch)
        i += 1
    return "".join(out)


def _unescape_double(raw: str) -> str:
    out, i = [], 0
    while i < len(raw):
        if raw[i] == "\\" and i + 1 < len(raw) and raw[i + 1] in '$`"\\\n':
            if raw[i + 1] != "\n":
                out.append(raw[i + 1])
            i += 2
            continue
        out.append(raw[i])
        i += 1
    return "".join(out)


def _ansi_c(raw: str) -> str:
    """The value of ``$'...'``: C escapes decoded (``$'\\x72m'`` is ``rm``)."""
    out, i = [], 0
    while i < len(raw):
        ch = raw[i]
        if ch != "\\" or i + 1 >= len(raw):
            out.append(ch)
            i += 1
            continue
        nxt = raw[i + 1]
        m = re.match(r"x([0-9a-fA-F]{1,2})|u([0-9a-fA-F]{1,4})|U([0-9a-fA-F]{1,8})|([0-7]{1,3})|c(.)", raw[i + 1:])
        if m:
            if m.group(5) is not None:
                out.append(chr(ord(m.group(5)) & 0x1F))
            else:
                digits = next(g for g in m.groups()[:4] if g is not None)
                code = int(digits, 8 if m.group(4) is not None else 16)
                out.append(chr(code) if code < 0x110000 else "\ufffd")
            i += 1 + m.end()
            continue
        out.append(_ESCAPES.get(nxt, "\\" + nxt))
        i += 2
    return "".join(out)


def literal(node: Any) -> str | None:
    """The value of a word with no expansion in it (quotes and backslashes removed), else None."""
    kind = node.type
    if kind == "command_name":
        return literal(node.children[0]) if len(node.children) == 1 else None
    if kind in ("word", "number"):
        return _unescape_word(text(node))
    if kind == "raw_string":
        return text(node)[1:-1]
    if kind == "ansi_c_string":
        return _ansi_c(text(node)[2:-1])
    if kind in ("string", "translated_string"):
        parts = [c for c in node.children if c.type not in ('"', '$"', "$")]
        if all(c.type == "string_content" for c in parts):
            return "".join(_unescape_double(text(c)) for c in parts)
        return None
    if kind == "concatenation":
        values = [literal(c) for c in node.children]
        return None if any(v is None for v in values) else "".join(v or "" for v in values)
    return None


def words(node: Any) -> tuple[list[str], list[str | None]]:
    """A ``command`` node's leading assignments (as written) and its words' values."""
    assigns: list[str] = []
    values: list[str | None] = []
    for child in node.children:
        if child.type == "variable_assignment":
            if not values:
                assigns.append(text(child))
            continue
        if child.type in ("file_redirect", "herestring_redirect", "heredoc_redirect", "comment"):
            continue
        if child.is_named:
            values.append(literal(child))
    return assigns, values


def _skip_options(name: str, args: Sequence[str | None]) -> tuple[int, str | None]:
    """Index of the wrapped command in ``args`` (after ``name``'s options), or a reason it cannot be known."""
    takes = WRAPPERS[name]
    i = 0
    while i < len(args):
        a = args[i]
        if a is None:
            return i, None
        if a == "--":
            i += 1
            break
        if name in ("env", "sudo", "doas") and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=.*", a, re.S):
            if name == "env" and a.startswith("GIT_"):
                return i, "env sets a GIT_ variable"
            i += 1
            continue
        if not a.startswith("-") or a == "-" or name in ("command", "builtin", "exec") and not re.fullmatch(r"-[a-zA-Z]+", a):
            break
        if name == "env" and (a in ("-S", "--split-string") or a.startswith(("-S", "--split-string="))):
            return i, "env -S splits a string into a command"
        if name == "nice" and re.fullmatch(r"-\d+", a):
            i += 1
            continue
        flag = a.split("=", 1)[0]
        if flag in takes and "=" not in a:
            i += 2
            continue
        if len(a) > 2 and not a.startswith("--") and a[:2] in takes:
            i += 1  # -n5
            continue
        i += 1
    return i + WRAPPER_SKIP.get(name, 0), None


def unwrap(values: Sequence[str | None], depth: int = 0) -> tuple[list[str], str | None]:
    """The command a simple command really runs: ``[program, *args]`` with wrappers removed and the
    program reduced to its name, or a reason it cannot be known."""
    if not values:
        return [], None
    first = values[0]
    if first is None:
        return [], "its command word is not a plain word"
    name = os.path.basename(first.rstrip("/")) or first
    rest = list(values[1:])
    if name in WRAPPERS and depth < 8:
        if name == "xargs" and all(a is not None and a.startswith("-") for a in rest):
            return [name, *(a or "" for a in rest)], None
        start, why = _skip_options(name, rest)
        if why:
            return [], why
        if start < len(rest):
            return unwrap(rest[start:], depth + 1)
    if any(a is None for a in rest):
        return [name, *(a if a is not None else "\0" for a in rest)], None
    return [name, *(a or "" for a in rest)], None


def shell_script(cmd: Sequence[str]) -> tuple[bool, str | None]:
    """For ``sh -c STRING``: (is a shell, the string it runs or None when it reads a file or stdin)."""
    if not cmd or cmd[0] not in SHELLS:
        return False, None
    for i, a in enumerate(cmd[1:], 1):
        if a == "--":
            return True, None
        if a.startswith("-") and not a.startswith("--") and "c" in a[1:]:
            rest = [x for x in cmd[i + 1:] if not x.startswith(("-", "+"))]
            return True, rest[0] if rest else None
        if a.startswith("+") or (a.startswith("-") and a[1:2] in ("o", "O") and len(a) == 2):
            continue
        if not a.startswith("-"):
            return True, None
    return True, None


def write_targets(cmd: Sequence[str]) -> list[str]:
    """Files a command's own options and arguments say it writes (beyond its redirections)."""
    if not cmd:
        return []
    name, args = cmd[0], list(cmd[1:])
    out: list[str] = []
    for i, a in enumerate(args):
        nxt = args[i + 1] if i + 1 < len(args) else None
        if a.startswith("--") and len(a) > 4:
            flag, eq, val = a[2:].partition("=")
            if len(flag) >= 3 and any(w.startswith(flag) for w in WRITE_OPTIONS):
                if eq:
                    out.append(val)
                elif nxt is not None:
                    out.append(nxt)
        elif a in WRITE_SHORT and nxt is not None:
            out.append(nxt)
        elif name == "sort" and a.startswith("-o") and len(a) > 2:
            out.append(a[2:])
        elif name == "dd" and a.startswith("of="):
            out.append(a[3:])
        elif name in ("cp", "mv", "ln", "install") and a.startswith(("-t", "--target-directory")):
            value: str | None = a.partition("=")[2] if "=" in a else (
                a[2:] if len(a) > 2 and not a.startswith("--") else nxt)
            if value:
                out.append(value)
    if name in WRITES_ARGS:
        if name in ("sed", "perl") and not any(a.startswith("-i") or a.startswith("--in-place") for a in args):
            return out
        plain = [a for a in args if a and not a.startswith("-")]
        out.extend(plain)
    return out


def git_config_change(cmd: Sequence[str], assigns: Sequence[str]) -> str | None:
    """Why this command changes git's configuration (which can name programs git then runs)."""
    if any(a.startswith("GIT_") for a in assigns):
        return "it sets a GIT_ environment variable"
    if not cmd or cmd[0] != "git":
        return None
    args = list(cmd[1:])
    i = 0
    while i < len(args):
        a = args[i]
        if a == "-c" or a.startswith(("--config-env", "-c")) and a not in ("-C",):
            return "git -c sets configuration that can run programs"
        if a in GIT_GLOBAL_WITH_ARG:
            i += 2
            continue
        if not a.startswith("-"):
            break
        i += 1
    sub = args[i:]
    if sub[:1] == ["config"] and not any(a in GIT_CONFIG_READS for a in sub[1:]):
        rest = [a for a in sub[1:] if not a.startswith("-")]
        if len(rest) >= 2 or any(a.startswith(("--unset", "--add", "--replace", "--edit", "-e", "--rename",
                                                "--remove")) for a in sub[1:]) or rest[:1] in (["set"], ["edit"]):
            return "git config changes configuration that can run programs"
    return None


def git_moves(cmd: Sequence[str]) -> bool:
    """``git -C DIR`` and ``--git-dir``/``--work-tree``: relative paths mean somewhere else."""
    return bool(cmd) and cmd[0] == "git" and any(
        a in ("-C", "--git-dir", "--work-tree") or a.startswith(("--git-dir=", "--work-tree=")) for a in cmd[1:])


def git_subcommand(cmd: Sequence[str]) -> list[str]:
    """``git -C x -c k=v push`` as ``git push``, so a deny rule on ``git push`` sees it."""
    if not cmd or cmd[0] != "git":
        return list(cmd)
    args = list(cmd[1:])
    i = 0
    while i < len(args) and args[i].startswith("-"):
        i += 2 if args[i] in GIT_GLOBAL_WITH_ARG else 1
    return ["git", *args[i:]]
