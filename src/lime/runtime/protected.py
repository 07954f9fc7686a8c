"""The one list of protected paths: files and directories whose contents other programs run or
trust (git's config and hooks, editor tasks, CI workflows, hook managers, shell start-up files,
lime's own settings, agent instructions).

The permission check asks before a file tool or a redirection writes one of them, and the shell
sandbox mounts each of them read-only inside the writable workspace (``mounts``), so a command
cannot write them either. Git's ``core.hooksPath`` names one more directory per repository; it is
read from ``.git/config`` here, for both.
"""

from __future__ import annotations

import fnmatch
import os
import re
from functools import lru_cache
from pathlib import Path

PROTECTED_DIRS = {".git", ".lime", ".vscode", ".githooks", ".husky"}
PROTECTED_FILES = {
    ".lime.json", ".mcp.json", ".envrc", ".bashrc", ".bash_profile", ".bash_login", ".bash_logout", ".profile",
    ".zshrc", ".zshenv", ".zprofile", ".zlogin", ".zlogout", ".kshrc", ".mkshrc", ".cshrc", ".tcshrc",
    ".login", ".logout", ".inputrc",
}
# Protected paths the sandbox makes read-only even before they exist (an empty placeholder is
# mounted), so a command cannot create them: what lime, git, CI and the hook managers would pick up.
PLACEHOLDERS = (".git", ".lime", ".lime.json", ".mcp.json", ".vscode", ".github/workflows", ".githooks", ".husky",
                "AGENTS.md", "AGENTS.override.md")
_MAX_GIT_CONFIG = 1 << 20


def is_protected(path: str, hooks: tuple[str, ...] | None = None) -> bool:
    """Whether a path (relative to the working directory, or absolute) is protected.

    ``hooks``: the ``core.hooksPath`` directories (relative); default: those of the current directory."""
    parts = [p.lower() for p in path.replace("\\", "/").split("/") if p]
    if not parts:
        return False
    if any(p in PROTECTED_DIRS for p in parts):
        return True
    if any(a == ".github" and b == "workflows" for a, b in zip(parts, parts[1:], strict=False)):
        return True
    name = parts[-1]
    if name in PROTECTED_FILES or (len(parts) >= 2 and parts[-2] == "fish" and name == "config.fish"):
        return True
    if fnmatch.fnmatchcase(name, "agents*.md"):
        return True
    if hooks is None:
        hooks = hook_dirs(Path.cwd())
    rel = "/".join(parts)
    if path.startswith("/"):
        with_cwd = str(Path.cwd()).lower().strip("/") + "/"
        rel = rel[len(with_cwd):] if rel.startswith(with_cwd) else ""
    return any(rel == h.lower() or rel.startswith(h.lower() + "/") for h in hooks)


def hook_dirs(root: Path) -> tuple[str, ...]:
    """The ``core.hooksPath`` directory of the repository at ``root``, relative to it (if inside)."""
    config = root / ".git" / "config"
    try:
        st = os.stat(config)
    except OSError:
        return ()
    return _hook_dirs(str(root), st.st_mtime_ns, st.st_size)


@lru_cache(maxsize=16)
def _hook_dirs(root: str, _mtime: int, size: int) -> tuple[str, ...]:
    if size > _MAX_GIT_CONFIG:
        return ()
    try:
        text = (Path(root) / ".git" / "config").read_text(errors="replace")
    except OSError:
        return ()
    found: list[str] = []
    section = ""
    for line in text.splitlines():
        line = line.strip()
        head = re.match(r"\[\s*([A-Za-z0-9.-]+)", line)
        if head:
            section = head.group(1).lower()
            line = line[line.find("]") + 1:].strip() if "]" in line else ""
        m = re.match(r"hookspath\s*=\s*(.*)$", line, re.I)
        if section == "core" and m:
            value = m.group(1).split("#")[0].split(";")[0].strip().strip('"')
            if value:
                target = Path(os.path.expanduser(value))
                target = target if target.is_absolute() else Path(root) / target
                real = Path(os.path.normpath(target))
                if real.is_relative_to(root) and real != Path(root):
                    found.append(str(real.relative_to(root)))
    return tuple(dict.fromkeys(found))


def mounts(root: Path) -> tuple[list[Path], list[str]]:
    """For the sandbox: (protected paths under ``root`` that exist, relative ones to hold as placeholders).

    Existing ones: each top-level protected entry, ``.github/workflows`` and the hooks directory.
    Missing ones from ``PLACEHOLDERS`` (and the hooks directory) are returned by name."""
    present: list[Path] = []
    try:
        with os.scandir(root) as it:
            names = [e.name for e in it]
    except OSError:
        names = []
    for name in sorted(names):
        low = name.lower()
        if low in PROTECTED_DIRS or low in PROTECTED_FILES or fnmatch.fnmatchcase(low, "agents*.md"):
            present.append(root / name)
    missing: list[str] = []
    for rel in (*PLACEHOLDERS, *hook_dirs(root)):
        p = root / rel
        if os.path.lexists(p):
            if p not in present:
                present.append(p)
        elif rel not in missing:
            missing.append(rel)
    return present, missing
