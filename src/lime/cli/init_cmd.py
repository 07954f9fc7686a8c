"""`lime init` (and `/init` in the REPL): set a repository up for lime.

Writes an ``AGENTS.md`` skeleton from what the repository shows (its languages, and the build, test
and lint commands found in pyproject.toml, package.json, Cargo.toml, go.mod and the Makefile),
creates ``.lime/settings.json``, and adds ``.lime/settings.local.json`` and ``.lime/sessions/`` to
``.gitignore``. Nothing that exists is overwritten, no symbolic link is followed, and every
step is reported. Files go to the project root (the git root above the working directory).
"""

from __future__ import annotations

import argparse
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

IGNORED = (".lime/settings.local.json", ".lime/sessions/")
SETTINGS: dict[str, Any] = {"permissions": {"allow": [], "ask": [], "deny": []}}
MAX_MANIFEST_BYTES = 1_000_000


def register(sub: Any) -> None:
    p = sub.add_parser("init", help="write AGENTS.md, .lime/settings.json and .gitignore entries for this repository")
    p.set_defaults(handler=run_init)


def run_init(args: argparse.Namespace) -> int:
    from lime.runtime import project as projects
    from lime.textsafe import sanitize

    root = projects.discover().root
    for line in init(root):
        print(sanitize(line))
    return 0


# -- what the repository shows -------------------------------------------------------------------


@dataclass
class Findings:
    languages: list[str] = field(default_factory=list)
    commands: dict[str, list[str]] = field(default_factory=dict)  # "build" / "test" / "lint" -> commands
    sources: list[str] = field(default_factory=list)

    def add(self, kind: str, command: str) -> None:
        found = self.commands.setdefault(kind, [])
        if command not in found:
            found.append(command)

    def language(self, name: str) -> None:
        if name not in self.languages:
            self.languages.append(name)


def _text(path: Path) -> str | None:
    if path.is_symlink() or not path.is_file():
        return None
    try:
        with path.open("rb") as fh:
            return fh.read(MAX_MANIFEST_BYTES).decode("utf-8", errors="replace")
    except OSError:
        return None


def _python(root: Path, f: Findings) -> None:
    text = _text(root / "pyproject.toml")
    if text is None:
        return
    import tomllib

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        data = {}
    f.language("Python")
    f.sources.append("pyproject.toml")
    tool: dict[str, Any] = data["tool"] if isinstance(data.get("tool"), dict) else {}
    f.add("build", "python -m build")
    if "pytest" in tool or "pytest" in text or (root / "tests").is_dir():
        f.add("test", "python -m pytest")
    if "ruff" in tool:
        f.add("lint", "ruff check .")
    if "mypy" in tool:
        f.add("lint", "mypy")
    if "importlinter" in tool:
        f.add("lint", "lint-imports")


def _node(root: Path, f: Findings) -> None:
    text = _text(root / "package.json")
    if text is None:
        return
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        data = {}
    data = data if isinstance(data, dict) else {}
    deps = [name for key in ("dependencies", "devDependencies") if isinstance(data.get(key), dict)
            for name in data[key]]
    f.language("TypeScript" if "typescript" in deps or (root / "tsconfig.json").exists() else "JavaScript")
    f.sources.append("package.json")
    runner = "pnpm" if (root / "pnpm-lock.yaml").exists() else "yarn" if (root / "yarn.lock").exists() else "npm"
    scripts: dict[str, Any] = data["scripts"] if isinstance(data.get("scripts"), dict) else {}
    for name in scripts:
        if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9:_.-]{1,40}", name):
            continue
        kind = _kind(name)
        if kind:
            f.add(kind, f"{runner} test" if name == "test" else f"{runner} run {name}")


def _rust(root: Path, f: Findings) -> None:
    if _text(root / "Cargo.toml") is None:
        return
    f.language("Rust")
    f.sources.append("Cargo.toml")
    for kind, command in (("build", "cargo build"), ("test", "cargo test"), ("lint", "cargo clippy"),
                          ("lint", "cargo fmt --check")):
        f.add(kind, command)


def _go(root: Path, f: Findings) -> None:
    if _text(root / "go.mod") is None:
        return
    f.language("Go")
    f.sources.append("go.mod")
    for kind, command in (("build", "go build ./..."), ("test", "go test ./..."), ("lint", "go vet ./...")):
        f.add(kind, command)


def _make(root: Path, f: Findings) -> None:
    text = _text(root / "Makefile") or _text(root / "makefile") or _text(root / "GNUmakefile")
    if text is None:
        return
    f.sources.append("Makefile")
    for target in re.findall(r"^([A-Za-z0-9][A-Za-z0-9_.-]{0,40})\s*:(?!=)", text, flags=re.M):
        kind = _kind(target)
        if kind:
            f.add(kind, f"make {target}")


def _kind(name: str) -> str | None:
    name = name.lower()
    if name in ("build", "compile", "dist"):
        return "build"
    if name in ("test", "tests", "check", "unit", "test:unit", "e2e", "test:e2e"):
        return "test"
    if name in ("lint", "typecheck", "type-check", "fmt", "format", "format:check", "vet"):
        return "lint"
    return None


def findings(root: Path) -> Findings:
    f = Findings()
    for look in (_python, _node, _rust, _go, _make):
        look(root, f)
    return f


def agents_md(root: Path, f: Findings) -> str:
    langs = ", ".join(f.languages) or "(not detected: name them here)"
    lines = [
        "# AGENTS.md",
        "",
        "Instructions for coding agents working in this repository. lime reads this file (and an",
        "uncommitted AGENTS.local.md next to it) into its system prompt; keep it short and current.",
        "",
        "## Project",
        "",
        f"- Name: {root.name}",
        f"- Languages: {langs}",
        "- What it does: (one or two sentences)",
        "- Layout: (where the source, tests and docs live)",
        "",
        "## Commands",
        "",
    ]
    for kind, title in (("build", "Build"), ("test", "Test"), ("lint", "Lint")):
        found = f.commands.get(kind)
        lines.append(f"- {title}: " + (", ".join(f"`{c}`" for c in found) if found else "(none found)"))
    if f.sources:
        lines += ["", f"(Found in {', '.join(f.sources)}; check them and keep what the project really uses.)"]
    lines += [
        "",
        "## Conventions",
        "",
        "- (code style, naming, error handling, what not to touch)",
        "- Run the tests before saying a change is done.",
        "",
    ]
    return "\n".join(lines)


# -- writing, never overwriting --------------------------------------------------------------------


def _create(path: Path, text: str) -> bool:
    """Write a new file; False when something (a file, a link, anything) is already there."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    return True


def _gitignore(root: Path) -> str:
    path = root / ".gitignore"
    if path.is_symlink():
        return ".gitignore is a symbolic link: left alone (add .lime/settings.local.json and .lime/sessions/ yourself)"
    existing = _text(path) or ""
    have = {line.strip().lstrip("/") for line in existing.splitlines()}
    missing = [entry for entry in IGNORED if entry not in have and entry.rstrip("/") not in have]
    if not missing:
        return ".gitignore already ignores .lime/settings.local.json and .lime/sessions/"
    prefix = "" if not existing or existing.endswith("\n") else "\n"
    block = prefix + ("# lime: this machine's settings and sessions\n" if existing.strip() else "") + \
        "".join(f"{e}\n" for e in missing)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
        with os.fdopen(fd, "a", encoding="utf-8") as fh:
            fh.write(block)
    except OSError as exc:
        return f"could not update .gitignore: {exc.strerror or exc}"
    return f"{'added' if existing else 'created .gitignore with'} {', '.join(missing)}" + \
        (" to .gitignore" if existing else "")


def init(root: Path) -> list[str]:
    """Set ``root`` up; one line per step, saying what was written or why not."""
    out = [f"setting up {root}"]
    f = findings(root)
    agents = root / "AGENTS.md"
    if agents.is_symlink() or agents.exists():
        out.append("kept AGENTS.md (it exists; lime never overwrites it)")
    elif _create(agents, agents_md(root, f)):
        what = ", ".join(f.languages) or "no language detected"
        n = sum(len(v) for v in f.commands.values())
        out.append(f"wrote AGENTS.md ({what}; {n} command{'s' if n != 1 else ''} found) - edit it to describe the project")
    lime_dir = root / ".lime"
    if lime_dir.is_symlink():
        out.append(".lime is a symbolic link: left alone")
    else:
        try:
            lime_dir.mkdir(exist_ok=True)
        except OSError as exc:
            out.append(f"could not create .lime/: {exc.strerror or exc}")
        else:
            settings = json.dumps(SETTINGS, indent=2) + "\n"
            if _create(lime_dir / "settings.json", settings):
                out.append("wrote .lime/settings.json (project permission rules, shared through git)")
            else:
                out.append("kept .lime/settings.json (it exists)")
    out.append(_gitignore(root))
    return out

