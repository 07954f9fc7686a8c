"""Before a conversation starts: may this folder's project files be used, and what do they and the
settings files make of the permission policy, the session store and the system prompt.

The trust question is asked once per folder on a terminal (and remembered); ``--trust`` answers
it for one run (scripts). Without a terminal and without ``--trust``, the project files are
ignored and lime says so once.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from lime.textsafe import sanitize

if TYPE_CHECKING:
    from lime.runtime.permissions import Policy
    from lime.runtime.project import Project
    from lime.runtime.prompt import Inputs
    from lime.runtime.settings import Settings


@dataclass
class Context:
    """What a conversation in this folder starts from, once trust is decided."""

    project: Project
    trusted: bool
    settings: Settings
    policy: Policy
    sessions: Path  # where sessions are created and looked up
    prompt: Inputs  # what the system prompt of a new session is assembled from


def decide_trust(project: Project, flag: bool, say: Callable[[str], None], *, ask: bool = True) -> bool:
    """True when the project files may be used: no files to trust, ``--trust``, remembered, or the
    user says yes now (on a terminal)."""
    from lime.runtime import project as projects

    for why in project.refused:
        say(why)
    if not project.files:
        return False
    if flag or projects.is_trusted(project.root):
        return True
    files = sanitize(project.describe())
    root = sanitize(str(project.root))
    if ask and sys.stdin is not None and sys.stdin.isatty() and sys.stderr.isatty():
        changes = "".join(f"    - {sanitize(line)}\n" for line in what_trust_changes(project))
        sys.stderr.write(f"\nlime: {root} has project files: {files}.\n"
                         f"  Trusting it will:\n{changes}"
                         "  Trust this folder? Only say yes for a repository you trust. [y]es / [n]o: ")
        sys.stderr.flush()
        try:
            answer = sys.stdin.readline().strip().lower()
        except KeyboardInterrupt:
            answer = ""
            sys.stderr.write("\n")
        if answer in ("y", "yes"):
            projects.remember(project.root)
            return True
        say(f"not trusting {root}: ignored its project files ({files})")
        return False
    say(f"ignored the project files in {root} ({files}): the folder is not trusted; run lime there once "
        "on a terminal to trust it, or pass --trust")
    return False


def _rules(settings: Settings, kind: str) -> str:
    rules = [r.text for r in settings.rules[kind]]
    shown = ", ".join(r[:60] for r in rules[:4]) + (f", and {len(rules) - 4} more" if len(rules) > 4 else "")
    return f"{len(rules)} {kind} rule{'' if len(rules) == 1 else 's'} ({shown})"


def _mcp_servers(project: Project) -> list[str]:
    """The MCP servers trusting would start (local ones) or offer for approval (project ones)."""
    from lime.errors import LimeError
    from lime.mcp import config as mcfg
    from lime.runtime import settings as settings_mod

    try:
        files = mcfg.Files.here(project.cwd)
        local_as = settings_mod.local_scope(project.local_tracked())
        found = mcfg.configured(files, sources={"project", "local"}, local_as=local_as)
    except LimeError as exc:
        return [f"MCP servers: none started ({exc})"]
    start = [c.name[:40] for c in found if c.scope == "local" and not c.disabled]
    ask = [c.name[:40] for c in found if c.scope == "project" and not c.disabled]
    out = [f"start MCP servers {', '.join(start)} (from .lime/settings.local.*)"] if start else []
    if ask:
        out.append(f"offer project MCP servers {', '.join(ask)} (each asked for approval before it starts)")
    return out


def what_trust_changes(project: Project) -> list[str]:
    """What trusting the folder will change, concretely, for the trust question: the permission mode,
    the sandbox, the rules (and what is ignored), MCP servers, the instruction files and their sizes,
    the sessions."""
    import itertools
    import os

    from lime.errors import LimeError
    from lime.runtime import settings as settings_mod
    from lime.runtime.prompt import BUDGETS

    out: list[str] = []
    project_files, local = project.settings_files()
    try:
        found = settings_mod.load(user=None, project=project_files, local=local, flag=None,
                                  local_tracked=project.local_tracked() if local else None)
    except LimeError as exc:
        out.append(f"settings: none used ({exc})")
    else:
        rel = {o: os.path.relpath(o, project.cwd) for o in found.loaded}
        if found.default_mode:
            out.append(f"set the permission mode to {found.default_mode} (from {rel[found.mode_origin or '']})")
        if found.sandbox is not None:
            out.append(f"turn the sandbox {'on' if found.sandbox else 'OFF'} (from {rel[found.sandbox_origin or '']})")
        kinds = [_rules(found, k) for k in settings_mod.RULE_KINDS if found.rules[k]]
        if kinds:
            out.append("add " + "; ".join(kinds))
        if found.hooks:
            from lime.runtime.hookconfig import describe

            shown = describe(found.hooks)
            out.append(f"run {len(shown)} hook command{'s' if len(shown) != 1 else ''} on this machine: "
                       + "; ".join(shown[:6]) + (f"; and {len(shown) - 6} more" if len(shown) > 6 else ""))
        out += found.notes
    out += _mcp_servers(project)
    if project.agents:
        sizes = []
        for f in project.agents:
            try:
                size = f.stat().st_size
            except OSError:
                continue
            sizes.append(f"{os.path.relpath(f, project.cwd)} ({size:,} bytes)")
        out.append(f"give the model instructions from {', '.join(sizes)} (at most {BUDGETS['project'][0]:,} "
                   "bytes in all)")
    if project.lime_dir is not None:
        sessions = project.lime_dir / "sessions"
        n = sum(1 for _ in itertools.islice(sessions.glob("*.jsonl"), 1000)) \
            if sessions.is_dir() and not sessions.is_symlink() else 0
        out.append(f"keep sessions in {os.path.relpath(sessions, project.cwd)}/"
                   + (f" ({n:,} there already; lime -c resumes them, with their own system prompts)" if n else ""))
    return out or ["nothing beyond reading these files"]


def prepare(args: argparse.Namespace, say: Callable[[str], None], *, cwd: Path | None = None,
            ask: bool = True, date: str | None = None) -> Context:
    """Discover the project, settle trust, merge the settings, build the permission policy, and
    gather what the system prompt is made of."""
    from lime import config
    from lime.runtime import project as projects
    from lime.runtime import settings as settings_mod
    from lime.runtime.permissions import Policy

    sources = settings_mod.parse_sources(getattr(args, "setting_sources", None))
    here = projects.discover(cwd)
    trusted = decide_trust(here, bool(getattr(args, "trust", False)), say, ask=ask)
    project_files, local = here.settings_files() if trusted else ([], None)
    settings = settings_mod.load(user=config.config_home() / "settings.json", project=project_files, local=local,
                                 flag=getattr(args, "settings", None), sources=sources,
                                 local_tracked=here.local_tracked() if local else None)
    for note in settings.notes:
        say(note)
    policy = Policy.from_args(getattr(args, "permission_mode", None), bool(getattr(args, "dangerously_skip_permissions", False)),
                              getattr(args, "allowed_tools", None) or [], settings)
    if policy.mode != "default" and policy.mode_origin not in (None, "--permission-mode"):
        say(f"permission mode {policy.mode} (from {policy.mode_origin})")
    sessions, why = projects.sessions_dir(here, trusted)
    if why:
        say(why)
    inputs = prompt_inputs(args, here, trusted, policy, date, bool(settings.network_isolation))
    return Context(here, trusted, settings, policy, sessions, inputs)


def prompt_inputs(args: argparse.Namespace, here: Project, trusted: bool, policy: Policy,
                  date: str | None, network_isolated: bool = False) -> Inputs:
    """What the system prompt is assembled from. The sandbox is described from cheap checks only
    (the Landlock probe, bwrap on PATH): trying namespaces out would cost a process at every start."""
    import shutil

    from lime.runtime import prompt

    if not policy.sandboxed:
        sandbox = "off: shell commands run with the user's full rights"
    else:
        from lime.runtime.sandbox import landlock_abi

        abi, why = landlock_abi()
        if abi or shutil.which("bwrap"):
            sandbox = ("on: shell commands can write only inside the working directory (and added "
                       "directories)" + ("; .git/, .lime/ and other protected paths are read-only to them"
                                         if shutil.which("bwrap") else "")
                       + ("; they have no network" if network_isolated else ""))
        else:
            sandbox = f"unavailable ({why}): shell commands run with the user's full rights"
    env = prompt.environment(here, mode=policy.mode, sandbox=sandbox, date=date)
    return prompt.Inputs(here, trusted, prompt.memory_path(), getattr(args, "system", None), env)
