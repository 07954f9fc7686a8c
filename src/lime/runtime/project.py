"""What a project folder brings (``.lime/``, ``.lime.json``, ``AGENTS.md``) and whether lime may use it.

A cloned repository is someone else's: its ``.lime/`` could hold a planted session (with its own
system prompt) or settings, its ``AGENTS.md`` instructions for the model. lime uses these files
only in a folder the user trusts: asked once on a terminal and remembered in the config home
(``trusted-folders.json``), or ``--trust`` for one run. An untrusted folder's files are ignored
(lime says so once) and sessions go to the global store. A ``.lime`` or ``.lime/sessions`` that
is a symbolic link is never used: writes would land wherever it points.

The project root is the git root above the working directory (or the working directory itself
outside git); ``.lime/`` and ``.lime.json`` are looked for from the working directory up to it,
and ``AGENTS.md`` / ``AGENTS.local.md`` are read from the root down to the working directory.
Stdlib only: ``lime status`` uses it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from lime import config
from lime.errors import ConfigError

TRUST_FILE = "trusted-folders.json"
AGENTS_FILES = ("AGENTS.md", "AGENTS.local.md")


@dataclass
class Project:
    """A project folder: its root and the lime files in it, which are used only once it is trusted."""

    cwd: Path
    root: Path
    lime_dir: Path | None = None  # a real .lime directory (never the config home)
    lime_json: Path | None = None
    agents: list[Path] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # why a file was not used, whatever the trust

    @property
    def files(self) -> list[Path]:
        """The project files that need trust before lime uses them."""
        out = [p for p in (self.lime_dir, self.lime_json) if p is not None]
        return out + self.agents

    def describe(self) -> str:
        names = []
        for p in self.files:
            rel = os.path.relpath(p, self.cwd)
            names.append(rel + ("/" if p.is_dir() else ""))
        return ", ".join(names)

    def settings_files(self) -> tuple[list[Path], Path | None]:
        """(project files, local file) for ``settings.load``."""
        project = [p for p in (self.lime_json,) if p is not None]
        local = None
        if self.lime_dir is not None:
            project.append(self.lime_dir / "settings.json")
            local = self.lime_dir / "settings.local.json"
        return project, local


    def local_tracked(self) -> str | None:
        """Why ``.lime/settings.local.json`` is the repository's rather than this machine's (see
        ``local_tracked``); None for a local file git does not track."""
        return None if self.lime_dir is None else local_tracked(self.root, self.lime_dir)


def local_tracked(root: Path, lime_dir: Path) -> str | None:
    """Why ``lime_dir``'s local settings are the repository's rather than this machine's: git
    tracks them (read from ``.git/index``, no git process), or the index cannot be read (then lime
    takes the safe side). None when git does not track them. Every reader of the local scope
    (settings, MCP servers) asks this."""
    from lime.runtime import gitindex

    # settings.local.toml is read in the same scope, so either file being tracked counts.
    files = [lime_dir / name for name in ("settings.local.json", "settings.local.toml")]
    rels = [rel for f in files if (f.is_file() or f.is_symlink())
            and (rel := gitindex.relative(root, f)) is not None]
    if not rels:
        return None
    try:
        return "git tracks it" if gitindex.tracked(root, rels) else None
    except gitindex.Unknown as exc:
        return f"lime cannot tell whether git tracks it: {exc}"


def _home() -> Path | None:
    try:
        return config.config_home().resolve()
    except OSError:
        return None


def _resolve(path: Path) -> Path | None:
    try:
        return path.resolve()
    except OSError:  # changed while being resolved
        return None


def discover(cwd: Path | None = None) -> Project:
    cwd = (cwd or Path.cwd()).resolve()
    chain = [cwd]
    for parent in cwd.parents:
        if (chain[-1] / ".git").exists():
            break
        chain.append(parent)
    else:
        if not (chain[-1] / ".git").exists():
            chain = [cwd]  # outside git: the working directory alone
    project = Project(cwd=cwd, root=chain[-1])
    home = _home()
    for d in chain:
        candidate = d / ".lime"
        if project.lime_dir is None and (candidate.is_symlink() or candidate.is_dir()):
            if candidate.is_symlink():
                project.refused.append(f"{candidate} is a symbolic link; lime does not use it")
            elif _resolve(candidate) not in (home, None):
                project.lime_dir = candidate
        json_file = d / ".lime.json"
        if project.lime_json is None and json_file.is_file():
            project.lime_json = json_file
    for d in reversed(chain):
        for name in AGENTS_FILES:
            f = d / name
            if not f.is_file():
                continue
            real = _resolve(f)
            if real is None:
                continue
            if f.is_symlink() and not real.is_relative_to(project.root):
                project.refused.append(f"{f} links outside the project ({real}); lime does not read it")
                continue
            project.agents.append(f)
    return project


# -- trust -------------------------------------------------------------------------------------


def trust_path() -> Path:
    return config.config_home() / TRUST_FILE


def trusted_folders() -> list[str]:
    from lime.storage import parse_config_json, read_config_text

    path = trust_path()
    text = read_config_text(path)
    if text is None:
        return []
    data = parse_config_json(path, text)
    folders = data.get("trusted") if isinstance(data, dict) else None
    if not isinstance(folders, list):
        raise ConfigError(f"{path}: expected {{\"trusted\": [folder, ...]}}")
    return [f for f in folders if isinstance(f, str)]


def is_trusted(folder: Path) -> bool:
    """Trusting a folder trusts everything below it."""
    return any(folder == Path(t) or folder.is_relative_to(t) for t in trusted_folders())


def remember(folder: Path) -> None:
    from lime.storage import atomic_write_json, locked

    config.ensure_home()
    path = trust_path()
    with locked(path):
        folders = trusted_folders()
        if str(folder) not in folders:
            folders.append(str(folder))
        atomic_write_json(path, {"trusted": folders}, mode=0o600)


# -- what a trusted project provides -----------------------------------------------------------


def sessions_dir(project: Project, trusted: bool) -> tuple[Path, str | None]:
    """Where sessions live, and why not in the project when it has a ``.lime/`` that is not used."""
    global_dir = config.config_home() / "sessions"
    if project.lime_dir is None or not trusted:
        return global_dir, None
    sessions = project.lime_dir / "sessions"
    if sessions.is_symlink():
        return global_dir, f"{sessions} is a symbolic link; using the global session store {global_dir}"
    return sessions, None
