"""Custom slash commands: Markdown prompt templates that become ``/NAME``.

``~/.lime/commands/NAME.md`` (``$LIME_CONFIG_HOME/commands``) and, in a trusted folder,
``.lime/commands/NAME.md`` at the project root (which wins over a user command of the same
name, which wins over an enabled plugin's). A file may start with frontmatter::

    ---
    description: Review a file for bugs
    argument-hint: FILE [FOCUS]
    ---
    Review {ARG1} for bugs{ARG2}. ...

``{ARGS}`` is everything after the name, ``{ARG1}``, ``{ARG2}``... its words (shell quoting
groups words); a template with no placeholder gets the arguments appended. A built-in REPL
command of the same name wins, and lime says so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from lime.errors import UsageError
from lime.runtime.frontmatter import parse

# The REPL's own commands (a custom command of the same name is shadowed).
BUILTINS = frozenset({"model", "reasoning", "verbosity", "status", "permissions", "sandbox", "plan", "memory",
                      "config", "init", "mcp", "agents", "compact", "clear", "resume", "new", "rename", "fork",
                      "rewind", "cost", "help", "exit", "quit", "commands", "skills", "plugin"})
NAME_RE = re.compile(r"[a-z0-9][a-z0-9_.-]{0,63}")
FIELDS = ("description", "argument-hint")
MAX_BYTES = 100_000
_PLACEHOLDER = re.compile(r"\{ARGS\}|\{ARG([1-9][0-9]?)\}")


@dataclass
class Command:
    name: str
    body: str
    path: Path
    scope: str  # "user" or "project"
    meta: dict[str, str] = field(default_factory=dict)

    @property
    def description(self) -> str:
        return self.meta.get("description", "")

    @property
    def argument_hint(self) -> str:
        return self.meta.get("argument-hint", "")

    def expand(self, args: str) -> str:
        """The prompt this command sends with ``args`` (see the module's docstring)."""
        import shlex

        args = args.strip()
        try:
            words = shlex.split(args)
        except ValueError:
            words = args.split()
        if not _PLACEHOLDER.search(self.body):
            return f"{self.body.rstrip()}\n\n{args}" if args else self.body.rstrip()

        def one(m: re.Match[str]) -> str:
            if m.group(1) is None:
                return args
            n = int(m.group(1))
            return words[n - 1] if n <= len(words) else ""

        return _PLACEHOLDER.sub(one, self.body).rstrip()


def check_name(name: str) -> str:
    low = name.lower().removeprefix("/")
    if not NAME_RE.fullmatch(low):
        raise UsageError(f"command name {name[:70]!r} is not valid (letters, digits, '-', '_' or '.', "
                         "starting with a letter or digit)")
    return low


def render(meta: dict[str, str], body: str) -> str:
    """A command file with its frontmatter normalised: known keys first, empty ones dropped."""
    keys = [k for k in FIELDS if meta.get(k)] + sorted(k for k in meta if k not in FIELDS and meta[k])
    head = "".join(f"{k}: {' '.join(meta[k].split())}\n" for k in keys)
    return (f"---\n{head}---\n" if head else "") + body.strip("\n") + "\n"


def directories(root: Path | None, trusted: bool) -> list[tuple[str, Path]]:
    """Where commands are read from, lowest precedence first."""
    from lime import config
    from lime.cli import plugins

    out = [(f"plugin {p.id}", d) for p in plugins.enabled() if (d := p.folder("commands")) is not None]
    out.append(("user", config.config_home() / "commands"))
    if trusted and root is not None:
        out.append(("project", root / ".lime" / "commands"))
    return out


def _read(path: Path) -> str | None:
    try:
        if path.is_symlink() or not path.is_file() or path.stat().st_size > MAX_BYTES:
            return None
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None


def load(root: Path | None, trusted: bool) -> dict[str, Command]:
    """Every custom command by name (project over user)."""
    found: dict[str, Command] = {}
    for scope, folder in directories(root, trusted):
        if folder.is_symlink() or not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.md")):
            name = path.stem.lower()
            text = _read(path)
            if text is None or not NAME_RE.fullmatch(name):
                continue
            meta, body = parse(text)
            found[name] = Command(name, body, path, scope, meta)
    return found


def shadow_note(name: str) -> str:
    return f"/{name} is a built-in command: the custom command of that name is not used (rename its file)"


def resolve(line: str, commands: dict[str, Command]) -> tuple[Command, str] | None:
    """The custom command a ``/NAME args`` line runs, and its arguments; None when it is not one."""
    if not line.startswith("/"):
        return None
    name, _, rest = line[1:].partition(" ")
    name = name.lower()
    command = commands.get(name)
    if command is None or name in BUILTINS:
        return None
    return command, rest
