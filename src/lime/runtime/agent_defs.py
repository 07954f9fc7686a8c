"""Which sub-agents the ``agent`` tool can start: the built-ins and the user's and project's own.

Lime's "Sub-agents" page: built-ins ``explore``, ``general-purpose``, ``code-review``, ``task``
and ``plan``; custom agents are Markdown files whose frontmatter says what the agent is and whose
body is its system prompt (after lime's worker preamble):

  user     ``$LIME_CONFIG_HOME/agents/NAME.md`` (``~/.lime/agents/NAME.md``)
  project  ``.lime/agents/NAME.md`` (used only in a trusted folder)

Built-ins take precedence; a project agent replaces a user agent of the same name. Frontmatter
keys: ``name`` (or ``type``), ``description``, ``model`` (a catalog slug or ``inherit``),
``max_turns``, ``tools``, ``disallowed_tools``, ``permission_mode``; others (``color``...) are
ignored. A file that cannot be used is skipped with one line saying why. A definition can only
narrow what the parent may do: its ``permission_mode`` is capped at the parent's when the agent
runs (``subagents``). Stdlib only: ``lime agents`` lists them without starting a conversation.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lime import config
from lime.runtime.modes import MODES

MAX_FILE_BYTES = 64_000
MAX_AGENTS = 200
NAME_RE = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
KEYS = ("name", "type", "description", "model", "max_turns", "tools", "disallowed_tools", "permission_mode")
# The spellings Lime's pages use for the modes (``accept-edits``) and the CLI's (``acceptEdits``).
MODE_SPELLINGS = {m.lower(): m for m in MODES} | {
    "accept-edits": "acceptEdits", "accept_edits": "acceptEdits", "dont-ask": "dontAsk", "dont_ask": "dontAsk",
    "bypass-permissions": "bypassPermissions", "bypass_permissions": "bypassPermissions",
}
# From the tightest mode to the loosest: a child runs at the tighter of its own and its parent's.
MODE_ORDER = ("plan", "default", "acceptEdits", "dontAsk", "bypassPermissions")
READ_TOOLS = ("read_file", "glob_search", "grep_search")

PREAMBLE = """\
You are a sub-agent of lime, a terminal coding agent: the main agent gave you one task. Work on it \
on your own with the tools you have (you cannot ask the user anything) and stay within the task. \
When you are done, reply with your final answer only: it is all the main agent will see, so make \
it complete, specific (paths, line numbers, names) and brief."""


@dataclass(frozen=True)
class AgentDef:
    name: str
    description: str
    prompt: str = ""  # the agent-specific part of its system prompt
    model: str | None = None  # None: the parent's model
    max_turns: int | None = None  # None: the parent's limit
    tools: tuple[str, ...] | None = None  # None: the parent's tools; entries may be patterns (Bash(git:*))
    disallowed_tools: tuple[str, ...] = ()
    permission_mode: str | None = None  # None: the parent's
    source: str = "built-in"  # built-in, user or project
    path: Path | None = None

    def system_prompt(self) -> str:
        return PREAMBLE + ("\n\n" + self.prompt.strip() if self.prompt.strip() else "")


BUILTINS: dict[str, AgentDef] = {a.name: a for a in (
    AgentDef("explore", "Read-only research: finds and reads code, reports what it found. No shell, no edits.",
             "Search and read the workspace to answer the question. Report what you found with file paths "
             "and line numbers; quote only the lines that matter.",
             tools=READ_TOOLS, permission_mode="plan"),
    AgentDef("general-purpose", "General worker with the parent's tools and permission policy.",
             "Carry out the task completely, then say what you did and what is left, if anything."),
    AgentDef("code-review", "Reviews recent changes (a diff or branch) for correctness and style.",
             "Review the changes you are pointed at (run git diff or read the files). Report real problems "
             "first (bugs, missing cases, security), each with its file and line, then smaller points. "
             "Do not change any file.",
             tools=(*READ_TOOLS, "bash"), disallowed_tools=("write_file", "edit_file")),
    AgentDef("task", "Runs one focused task with a tight scope and few turns.",
             "Do exactly the task given, nothing around it, in as few steps as you can.", max_turns=10),
    AgentDef("plan", "Read-only planner: studies the code and returns a step-by-step plan.",
             "Study the relevant code and return a concrete plan: the files to change, what to change in "
             "each and in which order, and how to test it. Do not change anything.",
             tools=READ_TOOLS, permission_mode="plan"),
)}


@dataclass
class Catalog:
    agents: dict[str, AgentDef] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)  # one line per file that was skipped

    def get(self, name: str) -> AgentDef | None:
        return self.agents.get(name.strip().lower())

    @property
    def names(self) -> list[str]:
        return list(self.agents)


def cap_mode(parent: str, requested: str | None) -> str:
    """The mode a child runs in: its own, never looser than its parent's."""
    if requested is None or requested not in MODE_ORDER or parent not in MODE_ORDER:
        return parent
    return min(parent, requested, key=MODE_ORDER.index)


# -- frontmatter ------------------------------------------------------------------------------


class DefinitionError(ValueError):
    """Why a definition file cannot be used (shown as one line)."""


def _scalar(raw: str) -> str:
    """A plain or quoted value; a `` #`` comment after it is dropped."""
    raw = raw.strip()
    if raw[:1] in ("\"", "'"):
        end = raw.find(raw[0], 1)
        rest = raw[end + 1:].strip() if end > 0 else None
        if rest is None or (rest and not rest.startswith("#")):
            raise DefinitionError(f"unbalanced quotes in {raw[:40]!r}")
        return raw[1:end]
    if " #" in raw:
        raw = raw.split(" #", 1)[0].rstrip()
    return raw


def _inline_list(raw: str) -> list[str]:
    inner = raw.strip()[1:-1]
    items, depth, cur = [], 0, ""
    for ch in inner:  # commas inside Bash(a, b) stay with their entry
        depth += ch == "("
        depth -= ch == ")"
        if ch == "," and depth <= 0:
            items.append(cur)
            cur = ""
        else:
            cur += ch
    items.append(cur)
    return [_scalar(i) for i in items if i.strip()]


def parse_frontmatter(text: str) -> tuple[dict[str, Any], str]:
    """The ``---`` block's keys (scalars and lists, the YAML a definition needs) and the body."""
    lines = text.lstrip("\ufeff").splitlines()
    if not lines or lines[0].strip() != "---":
        raise DefinitionError("no frontmatter (the file must start with a '---' line)")
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() in ("---", "..."))
    except StopIteration:
        raise DefinitionError("the frontmatter has no closing '---' line") from None
    data: dict[str, Any] = {}
    current: str | None = None
    for number, line in enumerate(lines[1:end], start=2):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        stripped = line.strip()
        if stripped.startswith("- ") or stripped == "-":
            if current is None or not isinstance(data.get(current), list):
                raise DefinitionError(f"line {number}: a list item outside a list")
            data[current].append(_scalar(stripped[1:]))
            continue
        if line[:1].isspace():
            raise DefinitionError(f"line {number}: nested values are not supported")
        key, sep, value = line.partition(":")
        key = key.strip()
        if not sep or not key:
            raise DefinitionError(f"line {number}: expected 'key: value'")
        if key in data:
            raise DefinitionError(f"line {number}: {key} is given twice")
        value = value.strip()
        if not value:
            data[key], current = [], key
        elif value.startswith("[") and value.endswith("]"):
            data[key], current = _inline_list(value), None
        elif value[:1] in "|>{&*!":
            raise DefinitionError(f"line {number}: {key}: only plain values and lists are supported")
        else:
            data[key], current = _scalar(value), None
    return data, "\n".join(lines[end + 1:])


def _text(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is None or value == []:
        return None
    if not isinstance(value, str):
        raise DefinitionError(f"{key} must be a single value, not a list")
    return value.strip() or None


def _names(data: dict[str, Any], key: str) -> tuple[str, ...] | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, str):  # "tools: read_file, grep_search"
        value = _inline_list(f"[{value}]")
    out = tuple(v.strip() for v in value if v.strip())
    if any("\0" in v or len(v) > 200 for v in out):
        raise DefinitionError(f"{key}: an entry is not a tool name")
    return out


def definition(text: str, *, stem: str, source: str, path: Path | None = None) -> AgentDef:
    """One agent from a definition file's text; DefinitionError when it cannot be used."""
    data, body = parse_frontmatter(text)
    name = (_text(data, "type") or _text(data, "name") or stem).strip()
    if not NAME_RE.fullmatch(name):
        raise DefinitionError(f"name {name[:40]!r} must be lower-case letters, digits, '-' or '_' (at most 64)")
    description = _text(data, "description")
    if description is None:
        raise DefinitionError("description is missing (the main agent chooses agents by it)")
    model = _text(data, "model")
    if model is not None and model.lower() == "inherit":
        model = None
    turns_raw = _text(data, "max_turns")
    max_turns: int | None = None
    if turns_raw is not None:
        if not turns_raw.isdigit() or not 1 <= int(turns_raw) <= 10_000:
            raise DefinitionError(f"max_turns must be a whole number from 1 to 10000, got {turns_raw[:20]!r}")
        max_turns = int(turns_raw)
    mode_raw = _text(data, "permission_mode")
    mode: str | None = None
    if mode_raw is not None:
        mode = MODE_SPELLINGS.get(mode_raw.lower())
        if mode is None:
            raise DefinitionError(f"permission_mode {mode_raw[:30]!r} is not one of {', '.join(MODES)}")
    return AgentDef(name=name, description=" ".join(description.split()), prompt=body.strip(), model=model,
                    max_turns=max_turns, tools=_names(data, "tools"),
                    disallowed_tools=_names(data, "disallowed_tools") or (), permission_mode=mode,
                    source=source, path=path)


# -- loading ------------------------------------------------------------------------------------


def user_dir() -> Path:
    return config.config_home() / "agents"


def _read(path: Path) -> str:
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        import stat

        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise DefinitionError("not a regular file")
        if info.st_size > MAX_FILE_BYTES:
            raise DefinitionError(f"larger than {MAX_FILE_BYTES // 1000} kB")
        data = os.read(fd, MAX_FILE_BYTES + 1)
    finally:
        os.close(fd)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise DefinitionError("not UTF-8 text") from None


def _scan(directory: Path, source: str, catalog: Catalog, *, confine: Path | None = None) -> None:
    """Add the definitions in ``directory``; ``confine``: a file must resolve inside it (project)."""
    if directory.is_symlink():
        catalog.problems.append(f"{directory} is a symbolic link; lime does not read agents from it")
        return
    try:
        files = sorted(p for p in directory.iterdir() if p.suffix == ".md")
    except (FileNotFoundError, NotADirectoryError):
        return
    except OSError as exc:
        catalog.problems.append(f"cannot read {directory}: {exc.strerror or exc}")
        return
    seen: dict[str, Path] = {}
    for path in files[:MAX_AGENTS]:
        try:
            if confine is not None and not path.resolve().is_relative_to(confine):
                raise DefinitionError("links outside the project")
            agent = definition(_read(path), stem=path.stem.lower(), source=source, path=path)
        except DefinitionError as exc:
            catalog.problems.append(f"skipped agent file {path}: {exc}")
            continue
        except OSError as exc:
            catalog.problems.append(f"skipped agent file {path}: {exc.strerror or exc}")
            continue
        if agent.name in BUILTINS:
            catalog.problems.append(f"skipped agent file {path}: {agent.name} is a built-in agent's name")
            continue
        if agent.name in seen:
            catalog.problems.append(f"skipped agent file {path}: {seen[agent.name].name} already defines "
                                    f"{agent.name}")
            continue
        seen[agent.name] = path
        catalog.agents[agent.name] = agent


def load(lime_dir: Path | None = None, *, user: Path | None = None) -> Catalog:
    """The built-ins, then the user's agents, then (``lime_dir``: a trusted project's ``.lime``) the
    project's, which replace user agents of the same name."""
    catalog = Catalog(dict(BUILTINS))
    _scan(user or user_dir(), "user", catalog)
    if lime_dir is not None:
        project_root = lime_dir.parent.resolve()
        _scan(lime_dir / "agents", "project", catalog, confine=project_root)
    return catalog
